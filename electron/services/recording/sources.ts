/**
 * Saved sources (OPC UA servers, MQTT brokers) and the OPC UA certificates a
 * person decided about. Passwords are sealed (secrets.ts) before they reach
 * SQLite and never leave this file except to open a connection.
 */
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import { SourceSettingsSchema, type CertificateInfo, type Source, type SourceSettings } from '../../../shared/recording';
import type { Workspace } from '../workspace/workspace';
import { openSecret, type Sealer } from './secrets';

interface SourceRow {
  id: number;
  name: string;
  kind: string;
  url: string;
  settings: string;
  secret: Buffer | null;
  sealed_by: string | null;
  created_at: string;
  created_by: string;
}

const toSource = (r: SourceRow): Source => ({
  id: r.id,
  name: r.name,
  settings: SourceSettingsSchema.parse(JSON.parse(r.settings)),
  hasPassword: r.secret !== null,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

/** What a connection needs: the settings and the opened password. */
export interface SourceAccess {
  id: number | null;
  name: string;
  settings: SourceSettings;
  password?: string;
}

export class SourceStore {
  constructor(
    private readonly ws: Workspace,
    /** The first seals new secrets; all of them are tried to open old ones. */
    private readonly sealers: readonly Sealer[],
  ) {}

  /** This workspace's OPC UA certificate store (own certificate, trusted and rejected servers). */
  get pkiDir(): string {
    return path.join(this.ws.dir, 'keys', 'opcua-pki');
  }

  list(): Source[] {
    return (this.ws.db.prepare('SELECT * FROM sources ORDER BY name COLLATE NOCASE').all() as SourceRow[]).map(toSource);
  }

  private row(id: number): SourceRow {
    const r = this.ws.db.prepare('SELECT * FROM sources WHERE id = ?').get(id) as SourceRow | undefined;
    if (!r) throw new AppError('not_found', `There is no saved source number ${id}. It may have been removed.`);
    return r;
  }

  get(id: number): Source {
    return toSource(this.row(id));
  }

  /** Settings and opened password of a saved source. */
  access(id: number): SourceAccess {
    const r = this.row(id);
    const settings = SourceSettingsSchema.parse(JSON.parse(r.settings));
    const password = r.secret ? openSecret(this.sealers, r.sealed_by ?? '', r.secret, r.name) : undefined;
    return { id: r.id, name: r.name, settings, password };
  }

  save(a: { id?: number; name: string; settings: SourceSettings; password?: string | null }): Source {
    const sealer = this.sealers[0];
    const clash = this.ws.db.prepare('SELECT id FROM sources WHERE name = ? COLLATE NOCASE AND id IS NOT ?').get(a.name, a.id ?? null) as { id: number } | undefined;
    if (clash) throw new AppError('conflict', `A source named "${a.name}" exists already. Choose another name.`, 'name');
    let secret: Buffer | null | undefined;
    if (a.password === null || a.password === '') secret = null;
    else if (a.password !== undefined) {
      if (!sealer) throw new AppError('conflict', 'This PC offers no safe place for passwords, so none can be saved. Use anonymous access or enter the password each time.');
      secret = sealer.seal(a.password);
    }
    const now = new Date().toISOString();
    const settings = JSON.stringify(a.settings);
    let id = a.id;
    this.ws.db.transaction(() => {
      if (id === undefined) {
        id = Number(
          this.ws.db
            .prepare('INSERT INTO sources (name, kind, url, settings, secret, sealed_by, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(a.name, a.settings.kind, a.settings.url, settings, secret ?? null, secret ? sealer!.kind : null, now, this.ws.who).lastInsertRowid,
        );
        this.ws.audit.record('source.add', { id, name: a.name, kind: a.settings.kind, url: a.settings.url, password: secret ? 'sealed' : 'none' });
      } else {
        this.row(id);
        this.ws.db.prepare('UPDATE sources SET name = ?, kind = ?, url = ?, settings = ?, updated_at = ? WHERE id = ?').run(a.name, a.settings.kind, a.settings.url, settings, now, id);
        if (secret !== undefined) this.ws.db.prepare('UPDATE sources SET secret = ?, sealed_by = ? WHERE id = ?').run(secret, secret ? sealer!.kind : null, id);
        this.ws.audit.record('source.change', { id, name: a.name, kind: a.settings.kind, url: a.settings.url, ...(secret !== undefined ? { password: secret ? 'sealed' : 'removed' } : {}) });
      }
    })();
    return this.get(id!);
  }

  remove(id: number): void {
    const r = this.row(id);
    this.ws.db.transaction(() => {
      this.ws.db.prepare('DELETE FROM sources WHERE id = ?').run(id);
      this.ws.audit.record('source.remove', { id, name: r.name, kind: r.kind, url: r.url });
    })();
  }

  /** Thumbprints of OPC UA server certificates a person trusted. */
  trusted(): Set<string> {
    return new Set((this.ws.db.prepare('SELECT thumbprint FROM opcua_trust WHERE trusted = 1').all() as { thumbprint: string }[]).map((r) => r.thumbprint));
  }

  /** The decision recorded about a certificate, if any. */
  decision(thumbprint: string): { trusted: boolean; decidedAt: string; decidedBy: string } | null {
    const r = this.ws.db.prepare('SELECT trusted, decided_at, decided_by FROM opcua_trust WHERE thumbprint = ?').get(thumbprint) as { trusted: number; decided_at: string; decided_by: string } | undefined;
    return r ? { trusted: r.trusted === 1, decidedAt: r.decided_at, decidedBy: r.decided_by } : null;
  }

  decide(cert: CertificateInfo, url: string, trust: boolean): void {
    this.ws.db.transaction(() => {
      this.ws.db
        .prepare(
          `INSERT INTO opcua_trust (thumbprint, subject, url, trusted, decided_at, decided_by) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (thumbprint) DO UPDATE SET trusted = excluded.trusted, url = excluded.url, decided_at = excluded.decided_at, decided_by = excluded.decided_by`,
        )
        .run(cert.thumbprint, cert.subject, url, trust ? 1 : 0, new Date().toISOString(), this.ws.who);
      this.ws.audit.record(trust ? 'source.trust' : 'source.distrust', { thumbprint: cert.thumbprint, subject: cert.subject, url, validTo: cert.validTo });
    })();
  }
}
