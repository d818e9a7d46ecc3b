import { COMMANDS, matchesChord, parseAccelerator, type PageId } from '../../shared/commands';
import { lastTrainDataset } from '../store/models-slice';
import { useStore } from '../store/store';

/** What each command does in the renderer; the menu, shortcuts and buttons all land here. */
export function runCommand(id: string): void {
  const s = useStore.getState();
  if (id.startsWith('go.')) return s.go(id.slice(3) as PageId);
  switch (id) {
    case 'data.import':
      return s.go('data', 'import');
    case 'models.train': {
      // The dataset on screen, else the last one trained on.
      const here = s.route === 'data' && s.pageParam && s.pageParam !== 'import' ? s.pageParam : null;
      return s.go('train', here ?? s.tr.dataset ?? lastTrainDataset());
    }
    case 'samples.try': {
      const first = s.samples[0];
      if (first) void s.addSample(first.id);
      return;
    }
    case 'view.toggleTheme': {
      const dark = document.documentElement.dataset.theme === 'dark';
      return s.setTheme(dark ? 'light' : 'dark');
    }
    case 'view.toggleJobs':
      return s.setTrayOpen(!s.trayOpen);
    case 'help.about':
      return s.go('settings');
  }
}

const CHORDS = COMMANDS.filter((c) => c.accelerator).map((c) => ({ id: c.id, chord: parseAccelerator(c.accelerator!) }));

/** In a browser there is no application menu, so the page binds the same shortcuts itself. */
export function bindShortcuts(): () => void {
  const onKey = (e: KeyboardEvent) => {
    const hit = CHORDS.find((c) => matchesChord(c.chord, e));
    if (!hit) return;
    e.preventDefault();
    runCommand(hit.id);
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
