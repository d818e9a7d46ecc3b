import { useEffect, useMemo, useState } from 'react';
import type { BrowseNode, LiveValue } from '../../../shared/recording';
import { Icon } from '../../components/icons';
import { ProgressBar } from '../../components/progress-bar';
import { LISTEN_MS, type BrowseList } from '../../store/record-slice';
import { useStore } from '../../store/store';
import { formatLiveValue, formatValue } from '../../pages/recordings/recording-logic';
import { columnNameProblem, countVariables, treeFromPaths, whyNotPickable, type TreeItem } from './record-logic';

/** How often the picked tags' values are read while picking. */
const LIVE_MS = 2000;

/** Step 2: the tags to record, from the server's tree (OPC UA) or what the broker was heard to publish (MQTT), with live values. */
export function TagsStep() {
  const kind = useStore((s) => s.rw.form.kind);
  const sourceName = useStore((s) => s.rw.sourceName);
  return (
    <div className="step">
      <p className="muted">
        Tick the tags to record from <span className="strong">{sourceName}</span>. Each becomes a column of the dataset you save; rename a column on the right if you
        like.
      </p>
      <div className="record-pick">
        <div className="record-browser card">{kind === 'opcua' ? <OpcUaBrowser /> : <MqttBrowser />}</div>
        <Selected />
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// OPC UA: lazy tree and search

function OpcUaBrowser() {
  const root = useStore((s) => s.rw.tree['']);
  const browse = useStore((s) => s.recordBrowse);
  const search = useStore((s) => s.rw.search);
  const searchList = useStore((s) => s.rw.searchList);
  const set = useStore((s) => s.recordSet);
  const runSearch = useStore((s) => s.recordSearch);
  useEffect(() => {
    if (!root) void browse('');
  }, [root, browse]);
  // Search as the person types, once they pause.
  useEffect(() => {
    const t = setTimeout(() => void runSearch(search), 350);
    return () => clearTimeout(t);
  }, [search, runSearch]);
  const searching = search.trim() !== '';
  return (
    <>
      <div className="record-browser-head">
        <input
          type="search"
          className="record-search"
          placeholder="Search tag names, e.g. Temperature"
          aria-label="Search tags"
          value={search}
          data-testid="record-search"
          onChange={(e) => set({ search: e.target.value })}
        />
      </div>
      <div className="record-tree-scroll">
        {searching ? (
          <SearchResults list={searchList} query={search.trim()} />
        ) : (
          <ul className="record-tree" role="tree" aria-label="The server's tags">
            <Children list={root} depth={0} />
          </ul>
        )}
      </div>
    </>
  );
}

function SearchResults({ list, query }: { list: BrowseList | null; query: string }) {
  if (!list || (list.loading && !list.nodes)) return <p className="muted small record-tree-note">Searching…</p>;
  if (list.error) return <p className="error-text small record-tree-note">{list.error}</p>;
  const nodes = list.nodes ?? [];
  if (nodes.length === 0) return <p className="muted small record-tree-note">No tag name contains “{query}”.</p>;
  return (
    <>
      <p className="muted small record-tree-note" aria-live="polite">
        {nodes.length === 1 ? 'One match' : `${nodes.length} matches`}
        {list.truncated ? ' shown; there are more, so type more of the name.' : '.'}
      </p>
      <ul className="record-tree" role="tree" aria-label="Search results">
        {nodes.map((n) => (
          <NodeRow key={n.id} node={n} depth={0} showPath />
        ))}
      </ul>
    </>
  );
}

function Children({ list, depth }: { list: BrowseList | undefined; depth: number }) {
  if (!list || (list.loading && !list.nodes)) {
    return (
      <li className="record-tree-note muted small" style={{ paddingLeft: indent(depth) }}>
        <span className="spinner inline-spinner" aria-hidden /> Loading…
      </li>
    );
  }
  if (list.error) {
    return (
      <li className="record-tree-note error-text small" style={{ paddingLeft: indent(depth) }}>
        {list.error}
      </li>
    );
  }
  const nodes = list.nodes ?? [];
  if (nodes.length === 0) {
    return (
      <li className="record-tree-note muted small" style={{ paddingLeft: indent(depth) }}>
        Empty.
      </li>
    );
  }
  return (
    <>
      {nodes.map((n) => (n.kind === 'folder' || n.hasChildren ? <FolderRow key={n.id} node={n} depth={depth} /> : <NodeRow key={n.id} node={n} depth={depth} />))}
      {list.truncated && (
        <li className="record-tree-note muted small" style={{ paddingLeft: indent(depth) }}>
          More tags are not listed here; search for them by name.
        </li>
      )}
    </>
  );
}

const indent = (depth: number) => 8 + depth * 20;

function FolderRow({ node, depth }: { node: BrowseNode; depth: number }) {
  const open = useStore((s) => s.rw.expanded.includes(node.id));
  const list = useStore((s) => s.rw.tree[node.id]);
  const toggle = useStore((s) => s.recordToggle);
  // A variable can have variables under it (a vibration with its peak): it is ticked and opened.
  const variable = node.kind === 'variable';
  const why = whyNotPickable(node);
  return (
    <li role="treeitem" aria-expanded={open} aria-label={node.name} className={`record-tree-item ${why ? 'disabled' : ''}`}>
      <div className="record-row" style={{ paddingLeft: indent(depth) }}>
        <button className="record-twisty" aria-label={`${open ? 'Close' : 'Open'} ${node.name}`} data-testid={`record-open-${node.path || node.name}`} onClick={() => toggle(node.id)}>
          <span className={`record-chevron ${open ? 'open' : ''}`} aria-hidden>
            ▸
          </span>
        </button>
        {variable ? <Pick node={node} /> : <FolderIcon />}
        <button className="record-row-name link-button" onClick={() => toggle(node.id)} title={why ?? node.path}>
          {node.name}
        </button>
        {variable && <VariableMeta node={node} />}
      </div>
      {open && (
        <ul role="group">
          <Children list={list} depth={depth + 1} />
        </ul>
      )}
    </li>
  );
}

function FolderIcon() {
  return (
    <svg className="record-folder" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" aria-hidden>
      <path d="M3 6.5A1.5 1.5 0 0 1 4.5 5h4.2l2 2.2h8.8A1.5 1.5 0 0 1 21 8.7v9.8a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z" />
    </svg>
  );
}

/** A variable: its box (greyed with the reason when it cannot be recorded), name, type and the value when browsed. */
function NodeRow({ node, depth, showPath = false, label }: { node: BrowseNode; depth: number; showPath?: boolean; label?: string }) {
  const why = whyNotPickable(node);
  return (
    <li role="treeitem" aria-label={node.name} aria-disabled={why ? true : undefined} className={`record-tree-item ${why ? 'disabled' : ''}`}>
      <div className="record-row" style={{ paddingLeft: indent(depth) + 22 }} data-testid="record-tag-row" data-path={node.path} title={why ?? node.path}>
        <Pick node={node} />
        <span className="record-row-main">
          <span className="record-row-name">{label ?? node.name}</span>
          {showPath && <span className="muted small record-row-path">{node.path}</span>}
          {why && <span className="muted small record-row-why">{why}</span>}
        </span>
        <VariableMeta node={node} />
      </div>
    </li>
  );
}

function VariableMeta({ node }: { node: BrowseNode }) {
  return (
    <span className="record-row-meta muted small">
      {node.value !== null && <span className="record-row-value">{typeof node.value === 'number' ? formatValue(node.value, node.unit) : `${String(node.value)}${node.unit ? ` ${node.unit}` : ''}`}</span>}
      {node.dataType && <span className="type-tag">{node.dataType}</span>}
    </span>
  );
}

function Pick({ node }: { node: BrowseNode }) {
  const checked = useStore((s) => s.rw.picked.some((t) => t.id === node.id));
  const pick = useStore((s) => s.recordPick);
  const unpick = useStore((s) => s.recordUnpick);
  const why = whyNotPickable(node);
  return (
    <input
      type="checkbox"
      className="record-check"
      checked={checked}
      disabled={Boolean(why)}
      aria-label={`Record ${node.path || node.name}`}
      data-testid={`record-pick-${node.path || node.name}`}
      onChange={(e) => (e.target.checked ? pick(node) : unpick(node.id))}
    />
  );
}

// ---------------------------------------------------------------------------
// MQTT: listen, then the heard topics as a tree

function MqttBrowser() {
  const heard = useStore((s) => s.rw.heard);
  const startedAt = useStore((s) => s.rw.listenStartedAt);
  const listen = useStore((s) => s.recordListen);
  const topic = useStore((s) => s.rw.form.topic);
  const [open, setOpen] = useState<Set<string> | null>(null);
  useEffect(() => {
    if (!heard) void listen();
  }, [heard, listen]);
  const tree = useMemo(() => treeFromPaths(heard?.nodes ?? []), [heard?.nodes]);
  // Everything open at first: what was heard is usually a short list.
  const opened = open ?? new Set(allFolderKeys(tree));
  const toggle = (key: string) => {
    const next = new Set(opened);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setOpen(next);
  };
  const listening = Boolean(heard?.loading);
  const counts = countVariables(heard?.nodes ?? []);
  return (
    <>
      <div className="record-browser-head record-listen">
        {listening ? <ListenProgress startedAt={startedAt} /> : (
          <span className="small" aria-live="polite" data-testid="record-heard">
            {counts.all === 0
              ? `Heard nothing on ${topic} in ${LISTEN_MS / 1000} s.`
              : `Heard ${counts.all === 1 ? 'one value' : `${counts.all} values`} on ${topic}${counts.numeric < counts.all ? `, ${counts.numeric} of them numbers` : ''}.`}
          </span>
        )}
        <button className="button small" data-testid="record-listen" disabled={listening} onClick={() => void listen()}>
          <Icon name="repeat" size={14} /> Listen again
        </button>
      </div>
      {heard?.notes && heard.notes.length > 0 && (
        <div className="notice warn-notice record-heard-notes" role="status" data-testid="record-heard-notes">
          <Icon name="alert" />
          <div>
            {heard.notes.map((n) => (
              <span key={n} className="small">
                {n}
              </span>
            ))}
          </div>
        </div>
      )}
      <div className="record-tree-scroll">
        {heard?.error && <p className="error-text small record-tree-note">{heard.error}</p>}
        {!listening && heard?.nodes && heard.nodes.length === 0 && (
          <p className="muted small record-tree-note">Nothing was published while Millwright listened. Check the topic filter, or listen again when the gateway sends.</p>
        )}
        <ul className="record-tree" role="tree" aria-label="What the broker published">
          {tree.map((item) => (
            <HeardItem key={item.key} item={item} depth={0} opened={opened} toggle={toggle} />
          ))}
        </ul>
        {heard?.truncated && <p className="muted small record-tree-note">More topics were heard than are listed; narrow the topic filter.</p>}
      </div>
    </>
  );
}

function allFolderKeys(items: readonly TreeItem[]): string[] {
  return items.flatMap((i) => (i.children.length ? [i.key, ...allFolderKeys(i.children)] : []));
}

function ListenProgress({ startedAt }: { startedAt: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(t);
  }, []);
  const fraction = startedAt ? Math.min(1, (now - startedAt) / LISTEN_MS) : 0;
  return (
    <div className="record-listening" data-testid="record-listening">
      <span className="small">Listening for {LISTEN_MS / 1000} s…</span>
      <ProgressBar value={fraction} label="Listening" />
    </div>
  );
}

function HeardItem({ item, depth, opened, toggle }: { item: TreeItem; depth: number; opened: Set<string>; toggle: (key: string) => void }) {
  if (item.children.length === 0 && item.node) return <NodeRow node={item.node} depth={depth} label={item.name} />;
  const open = opened.has(item.key);
  return (
    <li role="treeitem" aria-expanded={open} aria-label={item.name} className="record-tree-item">
      <div className="record-row" style={{ paddingLeft: indent(depth) }}>
        <button className="record-twisty" aria-label={`${open ? 'Close' : 'Open'} ${item.name}`} onClick={() => toggle(item.key)}>
          <span className={`record-chevron ${open ? 'open' : ''}`} aria-hidden>
            ▸
          </span>
        </button>
        {item.node ? <Pick node={item.node} /> : <FolderIcon />}
        <button className="record-row-name link-button" onClick={() => toggle(item.key)} title={item.path}>
          {item.name}
        </button>
      </div>
      {open && (
        <ul role="group">
          {item.children.map((c) => (
            <HeardItem key={c.key} item={c} depth={depth + 1} opened={opened} toggle={toggle} />
          ))}
        </ul>
      )}
    </li>
  );
}

// ---------------------------------------------------------------------------
// Selected tags with their column names and live values

function Selected() {
  const picked = useStore((s) => s.rw.picked);
  const live = useStore((s) => s.rw.live);
  const liveError = useStore((s) => s.rw.liveError);
  const rename = useStore((s) => s.recordRename);
  const unpick = useStore((s) => s.recordUnpick);
  const read = useStore((s) => s.recordReadLive);
  const count = picked.length;
  useEffect(() => {
    if (count === 0) return;
    void read();
    const t = setInterval(() => void read(), LIVE_MS);
    return () => clearInterval(t);
  }, [count, read]);
  const problem = columnNameProblem(picked);
  return (
    <section className="record-selected card" aria-label="Selected tags" data-testid="record-selected">
      <div className="record-selected-head">
        <strong>Selected</strong>
        <span className="muted small">{count === 0 ? 'none yet' : count === 1 ? 'one tag' : `${count} tags`}</span>
      </div>
      {count === 0 ? (
        <p className="muted small record-selected-empty">Tick the tags to record. Their current values show here, read every {LIVE_MS / 1000} s.</p>
      ) : (
        <>
          <div className="record-selected-cols muted small" aria-hidden>
            <span>Column name</span>
            <span>Now</span>
          </div>
          <ul className="record-selected-list">
            {picked.map((t) => (
              <li key={t.id} data-testid="record-selected-tag">
                <div className="record-selected-row">
                  <input
                    value={t.name}
                    maxLength={200}
                    aria-label={`Column name for ${t.path}`}
                    data-testid="record-column-name"
                    aria-invalid={!t.name.trim() || undefined}
                    onChange={(e) => rename(t.id, e.target.value)}
                  />
                  <LiveCell value={live[t.id]} unit={t.unit} />
                  <button className="icon-button" aria-label={`Don't record ${t.path}`} onClick={() => unpick(t.id)}>
                    <Icon name="close" size={14} />
                  </button>
                </div>
                <span className="muted small record-selected-path" title={t.id}>
                  {t.path}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {problem && count > 0 && <p className="error-text small">{problem}</p>}
      {liveError && <p className="muted small">Current values could not be read: {liveError}</p>}
    </section>
  );
}

function LiveCell({ value, unit }: { value: LiveValue | undefined; unit: string | null }) {
  if (!value) return <span className="record-live muted small">…</span>;
  if (value.quality === 'bad') {
    return (
      <span className="record-live record-live-bad small" title="The source marks this value as bad.">
        <Icon name="alert" size={13} /> Bad
      </span>
    );
  }
  return (
    <span className="record-live small" data-testid="record-live-value">
      {formatLiveValue(value, unit)}
    </span>
  );
}
