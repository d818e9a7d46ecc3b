import type { KeyboardEvent, ReactNode } from 'react';
import { Icon, type IconName } from './icons';

/** Roving focus among radio cards: arrows move and choose; Enter on the chosen card moves on. */
export function cardKeys(e: KeyboardEvent<HTMLButtonElement>, selected: boolean, choose: () => void, onNext: () => void, canNext: boolean) {
  if (e.key === 'Enter') {
    e.preventDefault();
    if (selected && canNext) onNext();
    else choose();
    return;
  }
  if (!['ArrowDown', 'ArrowUp', 'ArrowLeft', 'ArrowRight'].includes(e.key)) return;
  const group = e.currentTarget.closest('[role="radiogroup"]');
  const cards = group ? [...group.querySelectorAll<HTMLButtonElement>('[role="radio"]')] : [];
  const i = cards.indexOf(e.currentTarget);
  if (i < 0) return;
  e.preventDefault();
  const j = (i + (e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : -1) + cards.length) % cards.length;
  cards[j]!.focus();
  cards[j]!.click();
}

interface RadioProps {
  selected: boolean;
  /** Takes the tab stop when nothing in the group is chosen yet (the first card). */
  first: boolean;
  onChoose: () => void;
  /** Double-click or Enter on the chosen card: the wizard's Next. */
  onNext: () => void;
  canNext: boolean;
  testId?: string;
  disabled?: boolean;
}

/** One wizard step's options as radio buttons in a `role="radiogroup"`: the chosen one, or the first, takes the tab stop. */
function radioButtonProps({ selected, first, onChoose, onNext, canNext, testId, disabled }: RadioProps) {
  return {
    type: 'button' as const,
    role: 'radio',
    'aria-checked': selected,
    tabIndex: selected || first ? 0 : -1,
    'data-testid': testId,
    disabled,
    onClick: onChoose,
    onDoubleClick: () => selected && canNext && onNext(),
    onKeyDown: (e: KeyboardEvent<HTMLButtonElement>) => cardKeys(e, selected, onChoose, onNext, canNext),
  };
}

/** A large card with an icon, a title and a line: a choice among a few (the Train wizard's goals, the Deploy wizard's targets). */
export function ChoiceCard({ icon, iconSize = 26, title, text, className = '', ...radio }: RadioProps & { icon: IconName; iconSize?: number; title: string; text: string; className?: string }) {
  return (
    <button {...radioButtonProps(radio)} className={`goal-card ${className} ${radio.selected ? 'selected' : ''}`}>
      <span className="goal-icon" aria-hidden="true">
        <Icon name={icon} size={iconSize} />
      </span>
      <span className="goal-title">{title}</span>
      <span className="goal-text muted small">{text}</span>
      {radio.selected && (
        <span className="goal-check" aria-hidden="true">
          <Icon name="check" size={16} />
        </span>
      )}
    </button>
  );
}

/** A row with a radio dot, what it is, and facts on the right: a choice among many (columns, versions, endpoints). */
export function RadioRow({ main, meta, metaClass = '', ...radio }: RadioProps & { main: ReactNode; meta: ReactNode; metaClass?: string }) {
  return (
    <button {...radioButtonProps(radio)} className={`target-card ${radio.selected ? 'selected' : ''}`}>
      <span className="target-radio" aria-hidden="true" />
      <span className="target-main">{main}</span>
      <span className={`target-meta ${metaClass}`}>{meta}</span>
    </button>
  );
}
