import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { CertificateInfo, SourceKind } from '../../../shared/recording';
import { MQTT_PAYLOAD_TITLES, MQTT_PAYLOADS, OPCUA_SECURITY_MODE_TITLES, OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES, REBIRTH_OPTION_TITLE, SOURCE_KIND_TITLES } from '../../../shared/recording';
import { api } from '../../api/api';
import { Icon, type IconName } from '../../components/icons';
import { ChoiceCard, RadioRow } from '../../components/radio-cards';
import { connected, sourceNameOf } from '../../store/record-slice';
import { errorMessage } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatWhen } from '../../pages/when';
import { advancedInUse, connectProblem, URL_EXAMPLES } from './record-logic';

const KINDS: { kind: SourceKind; icon: IconName; text: string }[] = [
  { kind: 'opcua', icon: 'cpu', text: 'A PLC, SCADA system or historian that speaks OPC UA. You browse its tags as a tree.' },
  { kind: 'mqtt', icon: 'lineage', text: 'An IIoT gateway or broker that publishes readings on topics. Millwright listens and lists what it hears.' },
];

const POLICY_TITLES: Record<(typeof OPCUA_SECURITY_POLICIES)[number], string> = {
  None: 'None',
  Basic256Sha256: 'Basic256Sha256',
  Aes128_Sha256_RsaOaep: 'Aes128-Sha256-RsaOaep',
  Aes256_Sha256_RsaPss: 'Aes256-Sha256-RsaPss',
};

/** Step 1: where the data comes from, and a connection that works. */
export function ConnectStep({ onNext }: { onNext: () => void }) {
  const d = useStore((s) => s.rw);
  const sources = useStore((s) => s.sources);
  const setForm = useStore((s) => s.recordForm);
  const use = useStore((s) => s.recordUseSource);
  const connect = useStore((s) => s.recordConnect);
  const f = d.form;
  // A saved source's password is used unless another is typed.
  const passwordSaved = Boolean(sources?.find((s) => s.id === d.sourceId)?.hasPassword);
  const problem = connectProblem(f, d.password, passwordSaved);
  const isConnected = connected(d);
  const busy = d.testing || d.trusting;
  const onEnter = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    if (isConnected) onNext();
    else if (!problem && !busy) void connect();
  };

  return (
    <div className="step record-connect">
      {sources && sources.length > 0 && (
        <div className="field">
          <span className="field-label" id="record-saved-label">
            Saved sources
          </span>
          <div className="target-list record-saved" role="radiogroup" aria-labelledby="record-saved-label">
            {sources.map((s, i) => (
              <RadioRow
                key={s.id}
                selected={d.sourceId === s.id}
                first={d.sourceId === null && i === 0}
                testId={`record-source-${s.id}`}
                onChoose={() => use(s.id)}
                onNext={() => undefined}
                canNext={false}
                main={
                  <>
                    <span className="target-name">{s.name}</span>
                    <span className="muted small mono">{s.settings.url}</span>
                  </>
                }
                meta={
                  <>
                    <span className="block small">{SOURCE_KIND_TITLES[s.settings.kind]}</span>
                    <span className="muted small">saved {formatWhen(s.createdAt)}</span>
                  </>
                }
              />
            ))}
            <RadioRow
              selected={d.sourceId === null}
              first={false}
              testId="record-source-new"
              onChoose={() => use(null)}
              onNext={() => undefined}
              canNext={false}
              main={<span className="target-name">A new source</span>}
              meta={null}
            />
          </div>
        </div>
      )}

      <div className="record-kinds" role="radiogroup" aria-label="What do you connect to?">
        {KINDS.map((k) => (
          <ChoiceCard
            key={k.kind}
            selected={f.kind === k.kind}
            first={false}
            testId={`record-kind-${k.kind}`}
            onChoose={() => setForm({ kind: k.kind })}
            onNext={() => undefined}
            canNext={false}
            className="record-kind"
            icon={k.icon}
            iconSize={22}
            title={SOURCE_KIND_TITLES[k.kind]}
            text={k.text}
          />
        ))}
      </div>

      <div className="settings-grid record-fields">
        <label className="field record-url">
          <span className="field-label">{f.kind === 'opcua' ? 'Server address' : 'Broker address'}</span>
          <input
            value={f.url}
            placeholder={URL_EXAMPLES[f.kind]}
            spellCheck={false}
            autoComplete="off"
            data-testid="record-url"
            onChange={(e) => setForm({ url: e.target.value })}
            onKeyDown={onEnter}
          />
          <span className="field-hint">{f.kind === 'opcua' ? 'The endpoint URL, as your automation team or UaExpert shows it.' : 'mqtt:// or mqtts:// (TLS), ws:// or wss:// (WebSocket).'}</span>
        </label>
        {f.kind === 'mqtt' && (
          <>
            <label className="field">
              <span className="field-label">Topics</span>
              <input value={f.topic} spellCheck={false} data-testid="record-topic" onChange={(e) => setForm({ topic: e.target.value })} onKeyDown={onEnter} />
              <span className="field-hint">A topic filter: # for everything, plant/+/temperature for one reading of every machine.</span>
            </label>
            <label className="field">
              <span className="field-label">Messages hold</span>
              <select value={f.payload} data-testid="record-payload" onChange={(e) => setForm({ payload: e.target.value as typeof f.payload })}>
                {MQTT_PAYLOADS.map((p) => (
                  <option key={p} value={p}>
                    {MQTT_PAYLOAD_TITLES[p]}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
      </div>

      <SignIn onEnter={onEnter} passwordSaved={passwordSaved} />

      <AdvancedSection key={`${d.sourceId ?? 'new'}-${f.kind}`} />

      <div className="record-connect-row">
        <button className={`button ${isConnected ? '' : 'primary'}`} data-testid="record-connect" disabled={Boolean(problem) || busy} onClick={() => void connect()}>
          {d.testing ? <span className="spinner" aria-hidden /> : <Icon name="arrow" size={16} />}
          {isConnected ? 'Connect again' : 'Connect'}
        </button>
        {problem && !busy && <span className="muted small">{problem}</span>}
      </div>
      <ConnectOutcome />
    </div>
  );
}

/**
 * Open by itself when the source shown uses one of its settings, decided once per source
 * (a new key remounts it): putting a setting back while editing does not fold it away.
 */
function AdvancedSection() {
  const f = useStore((s) => s.rw.form);
  const [openAtFirst] = useState(() => advancedInUse(f));
  return (
    <details className="advanced" open={openAtFirst || undefined}>
      <summary>Advanced</summary>
      {f.kind === 'opcua' ? <OpcUaAdvanced /> : <MqttAdvanced />}
    </details>
  );
}

function SignIn({ onEnter, passwordSaved }: { onEnter: (e: KeyboardEvent<HTMLInputElement>) => void; passwordSaved: boolean }) {
  const d = useStore((s) => s.rw);
  const setForm = useStore((s) => s.recordForm);
  const set = useStore((s) => s.recordSet);
  const f = d.form;
  const auth = f.kind === 'opcua' ? (f.auth === 'certificate' ? 'certificate' : f.auth) : f.mqttAuth;
  const choose = (a: 'anonymous' | 'password') => (f.kind === 'opcua' ? setForm({ auth: a }) : setForm({ mqttAuth: a }));
  return (
    <div className="field">
      <span className="field-label" id="record-auth-label">
        Sign in
      </span>
      {auth === 'certificate' ? (
        <span className="field-hint">With a user certificate (under Advanced).</span>
      ) : (
        <fieldset className="segmented" aria-labelledby="record-auth-label">
          {(['anonymous', 'password'] as const).map((a) => (
            <label key={a} className={auth === a ? 'checked' : ''}>
              <input type="radio" name="record-auth" value={a} checked={auth === a} onChange={() => choose(a)} data-testid={`record-auth-${a}`} />
              {a === 'anonymous' ? 'Anonymous' : 'User name and password'}
            </label>
          ))}
        </fieldset>
      )}
      {auth === 'password' && (
        <div className="settings-grid record-credentials">
          <label className="field">
            <span className="field-label">User name</span>
            <input value={f.username} autoComplete="off" data-testid="record-username" onChange={(e) => setForm({ username: e.target.value })} onKeyDown={onEnter} />
          </label>
          <label className="field">
            <span className="field-label">Password</span>
            <input
              type="password"
              value={d.password}
              autoComplete="new-password"
              placeholder={passwordSaved ? 'Saved (type to change)' : ''}
              data-testid="record-password"
              onChange={(e) => set({ password: e.target.value })}
              onKeyDown={onEnter}
            />
            <span className="field-hint">Kept sealed on this PC, never in the workspace database in clear.</span>
          </label>
        </div>
      )}
    </div>
  );
}

function OpcUaAdvanced() {
  const f = useStore((s) => s.rw.form);
  const setForm = useStore((s) => s.recordForm);
  return (
    <div className="step">
      <div className="settings-grid">
        <label className="field">
          <span className="field-label">Message security</span>
          <select value={f.securityMode} data-testid="record-security-mode" onChange={(e) => setForm({ securityMode: e.target.value as typeof f.securityMode })}>
            {OPCUA_SECURITY_MODES.map((m) => (
              <option key={m} value={m}>
                {OPCUA_SECURITY_MODE_TITLES[m]}
              </option>
            ))}
          </select>
          <span className="field-hint">What the server's endpoint asks for. Sign and encrypt is the safest; None sends values readable on the network.</span>
        </label>
        <label className="field">
          <span className="field-label">Security policy</span>
          <select value={f.securityPolicy} disabled={f.securityMode === 'none'} data-testid="record-security-policy" onChange={(e) => setForm({ securityPolicy: e.target.value as typeof f.securityPolicy })}>
            {OPCUA_SECURITY_POLICIES.filter((p) => (f.securityMode === 'none' ? p === 'None' : p !== 'None')).map((p) => (
              <option key={p} value={p}>
                {POLICY_TITLES[p]}
              </option>
            ))}
          </select>
          <span className="field-hint">{f.securityMode === 'none' ? 'Only with message security.' : 'Basic256Sha256 is what most servers offer.'}</span>
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={f.auth === 'certificate'} data-testid="record-auth-certificate" onChange={(e) => setForm({ auth: e.target.checked ? 'certificate' : 'anonymous' })} />
        Sign in with a user certificate instead of a password
      </label>
      {f.auth === 'certificate' && (
        <div className="settings-grid">
          <FileField label="User certificate" hint="PEM or DER (.pem, .crt, .der)." value={f.userCertificateFile} accept=".pem,.crt,.cer,.der" onChange={(v) => setForm({ userCertificateFile: v })} />
          <FileField label="Its private key" hint="PEM (.pem, .key)." value={f.userKeyFile} accept=".pem,.key" onChange={(v) => setForm({ userKeyFile: v })} />
        </div>
      )}
    </div>
  );
}

function MqttAdvanced() {
  const f = useStore((s) => s.rw.form);
  const setForm = useStore((s) => s.recordForm);
  const tls = /^(mqtts|wss):/i.test(f.url.trim());
  return (
    <div className="step">
      <p className="muted small">{tls ? 'For a broker with TLS (mqtts:// or wss://).' : 'These apply only to mqtts:// and wss:// addresses (TLS).'}</p>
      <div className="settings-grid">
        <FileField label="CA certificate" hint="PEM: trusted besides this PC's own authorities." value={f.caFile} accept=".pem,.crt,.cer" onChange={(v) => setForm({ caFile: v })} />
        <FileField label="Client certificate" hint="PEM, when the broker asks for one." value={f.clientCertFile} accept=".pem,.crt,.cer" onChange={(v) => setForm({ clientCertFile: v })} />
        <FileField label="Client key" hint="PEM private key of the client certificate." value={f.clientKeyFile} accept=".pem,.key" onChange={(v) => setForm({ clientKeyFile: v })} />
      </div>
      <label className="check">
        <input type="checkbox" checked={f.rejectUnauthorized} data-testid="record-reject-unauthorized" onChange={(e) => setForm({ rejectUnauthorized: e.target.checked })} />
        Refuse a broker whose certificate is not trusted (recommended)
      </label>
      {f.payload === 'sparkplug' && (
        <>
          <label className="check">
            <input type="checkbox" checked={f.rebirth} data-testid="record-rebirth" onChange={(e) => setForm({ rebirth: e.target.checked })} />
            {REBIRTH_OPTION_TITLE} (sends a Rebirth command to the broker)
          </label>
          <p className="muted small">
            Sparkplug B edge nodes name their values once, in a birth message sent when they start. If Millwright joins later, values sent by alias only cannot be
            read until the node sends its birth again. Left off, Millwright only listens, and Pick tags says which edge node to restart.
          </p>
        </>
      )}
    </div>
  );
}

/** A file on this PC (a path typed, or chosen with the file dialog; in a browser the file is sent to the workspace). */
function FileField({ label, hint, value, accept, onChange }: { label: string; hint: string; value: string; accept: string; onChange: (v: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="field">
      <span className="field-label">{label}</span>
      <div className="file-field">
        <input value={value} spellCheck={false} aria-label={label} placeholder="Path to the file" onChange={(e) => onChange(e.target.value)} />
        <button type="button" className="button small" disabled={sending} onClick={() => input.current?.click()}>
          {sending ? <span className="spinner" aria-hidden /> : null}
          Choose…
        </button>
        <input
          ref={input}
          type="file"
          hidden
          accept={accept}
          aria-label={`${label} file`}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (!file) return;
            setSending(true);
            setError(null);
            api()
              .fileRef(file)
              .then((ref) => onChange(ref.path))
              .catch((err: unknown) => setError(errorMessage(err)))
              .finally(() => setSending(false));
          }}
        />
      </div>
      <span className={`field-hint ${error ? 'error-text' : ''}`}>{error ?? hint}</span>
    </div>
  );
}

/** What the connection attempt said: working, a certificate to decide about, or what went wrong and what to do. */
function ConnectOutcome() {
  const d = useStore((s) => s.rw);
  const sources = useStore((s) => s.sources);
  const cancel = useStore((s) => s.recordCancelConnect);
  const set = useStore((s) => s.recordSet);
  const reconsider = useStore((s) => s.recordReconsider);
  if (d.testing) {
    return (
      <div className="record-outcome card" data-testid="record-connecting" aria-live="polite">
        <span className="spinner" aria-hidden />
        <span>
          Connecting to <span className="mono">{d.form.url.trim()}</span>… It gives up after about 10 seconds.
        </span>
        <button className="link-button" onClick={cancel}>
          Cancel
        </button>
      </div>
    );
  }
  const r = d.result;
  if (!r) return null;
  if (r.problem === 'untrusted_certificate' && r.certificate && d.refused !== r.certificate.thumbprint) return <CertificateDecision certificate={r.certificate} message={r.message} />;
  if (r.problem === 'untrusted_certificate' && r.certificate) {
    return (
      <div className="notice bad-notice card" role="alert" data-testid="record-connect-result">
        <Icon name="alert" />
        <div>
          <strong>Not trusted</strong>
          <span>{r.message}</span>
          <span className="small muted">Check the thumbprint with the server's administrator; once it matches, look at the certificate again and trust it.</span>
          <div className="notice-actions">
            <button className="button small" onClick={reconsider}>
              Look at the certificate again
            </button>
          </div>
        </div>
      </div>
    );
  }
  if (!connected(d)) {
    if (r.ok) return null;
    return (
      <div className="notice bad-notice card" role="alert" data-testid="record-connect-result">
        <Icon name="alert" />
        <div>
          <strong>Could not connect</strong>
          <span>{r.message}</span>
        </div>
      </div>
    );
  }
  return (
    <div className="record-outcome ok card" data-testid="record-connect-result" aria-live="polite">
      <span className="ok-text">
        <Icon name="check" /> {r.message}
      </span>
      <label className="field record-source-name">
        <span className="field-label">Save this source as</span>
        <input
          value={d.sourceName}
          placeholder={sourceNameOf({ ...d, sourceName: '' }, sources)}
          maxLength={100}
          data-testid="record-source-name"
          onChange={(e) => set({ sourceName: e.target.value })}
        />
        <span className="field-hint">Saved sources can be picked again next time, without typing the address or password.</span>
      </label>
    </div>
  );
}

function CertificateDecision({ certificate: c, message }: { certificate: CertificateInfo; message: string }) {
  const trusting = useStore((s) => s.rw.trusting);
  const trust = useStore((s) => s.recordTrust);
  const when = (iso: string) => (Number.isFinite(Date.parse(iso)) ? formatWhen(iso) : iso);
  return (
    <section className="notice warn-notice card record-cert" aria-label="The server's certificate" data-testid="record-certificate">
      <Icon name="alert" />
      <div>
        <strong>Do you trust this server?</strong>
        <span className="small">{message}</span>
        <dl className="facts record-cert-facts">
          <Row label="Issued to">{c.subject}</Row>
          <Row label="Issued by">{c.issuer === c.subject ? <>{c.issuer} (signed by itself)</> : c.issuer}</Row>
          {c.applicationUri && <Row label="Application">{c.applicationUri}</Row>}
          <Row label="Valid">
            {when(c.validFrom)} to {when(c.validTo)}
            {c.expired && (
              <span className="chip chip-bad record-expired">
                <Icon name="alert" size={13} /> Not valid now
              </span>
            )}
          </Row>
          <Row label="Thumbprint (SHA-1)">
            <span className="mono" data-testid="record-thumbprint">
              {c.thumbprint}
            </span>
          </Row>
        </dl>
        {c.expired && <span className="small">The certificate is outside its validity dates: ask the server's administrator to renew it rather than trusting it as it is.</span>}
        <div className="notice-actions">
          <button className="button primary" data-testid="record-trust" disabled={trusting} onClick={() => void trust(true)}>
            {trusting ? <span className="spinner" aria-hidden /> : <Icon name="check" size={16} />} Trust this server
          </button>
          <button className="button" data-testid="record-distrust" disabled={trusting} onClick={() => void trust(false)}>
            Don't trust
          </button>
        </div>
      </div>
    </section>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}
