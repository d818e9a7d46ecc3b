import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries of STYLE.md are enforced by eslint.config.mjs; a wrong import must fail `npm test`.
const root = path.join(__dirname, '..');
const eslint = new ESLint({ cwd: root });

async function importErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('keeps Node and Electron out of the renderer', async () => {
    expect(await importErrors('renderer/pages/x.tsx', "import fs from 'node:fs';\nexport const a = fs;\n")).not.toEqual([]);
    expect(await importErrors('renderer/pages/x.tsx', "import { app } from 'electron';\nexport const a = app;\n")).not.toEqual([]);
    expect(await importErrors('renderer/pages/x.tsx', "import { createCore } from '../../electron/services/compose';\nexport const a = createCore;\n")).not.toEqual([]);
    expect(await importErrors('renderer/pages/x.tsx', "import { API } from '../../shared/api';\nexport const a = API;\n")).toEqual([]);
  });

  it('keeps shared/ free of Node, Electron and our other folders', async () => {
    expect(await importErrors('shared/x.ts', "import os from 'node:os';\nexport const a = os;\n")).not.toEqual([]);
    expect(await importErrors('shared/x.ts', "import { Workspace } from '../electron/services/workspace/workspace';\nexport const a = Workspace;\n")).not.toEqual([]);
    expect(await importErrors('shared/x.ts', "import { z } from 'zod';\nexport const a = z;\n")).toEqual([]);
  });

  it('lets only main.ts and preload.ts import electron', async () => {
    expect(await importErrors('electron/services/jobs/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).not.toEqual([]);
    expect(await importErrors('electron/main.ts', "import { app } from 'electron';\nexport const a = app;\n")).toEqual([]);
  });

  it('keeps the sandboxed preload from loading our other files', async () => {
    expect(await importErrors('electron/preload.ts', "import { createCore } from './services/compose';\nexport const a = createCore;\n")).not.toEqual([]);
  });
});
