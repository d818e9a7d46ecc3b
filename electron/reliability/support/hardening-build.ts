import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface PrivateBuild {
  /** The private app folder (package.json, bin/, dist/, links to node_modules and resources). */
  root: string;
  /** Its dist/ folder, laid out as `npm run build:node` lays out the real one. */
  dist: string;
  /** Its bin/millwright.cjs. */
  bin: string;
}

/**
 * Compiles electron/ and shared/ with tsconfig.json's options into a private
 * copy of the app under `dir`, so these tests load the JavaScript the app runs
 * without reading dist/ while another test file rewrites it. It transpiles file
 * by file (the same emitter as tsc, without the type check, which is the
 * typecheck's job): a few seconds instead of a full tsc run on a loaded
 * machine, yielding to the event loop so vitest's worker stays responsive.
 */
export async function transpileApp(dir: string): Promise<PrivateBuild> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.json could not be read.');
  const root = path.join(dir, 'app');
  const dist = path.join(root, 'dist');
  const options = { ...config.options, sourceMap: false, outDir: undefined, rootDir: undefined };
  let i = 0;
  for (const file of config.fileNames) {
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: false });
    const target = path.join(dist, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
    if (++i % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'bin', 'millwright.cjs'), path.join(root, 'bin', 'millwright.cjs'));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'junction');
  fs.symlinkSync(path.join(ROOT, 'resources'), path.join(root, 'resources'), 'junction');
  return { root, dist, bin: path.join(root, 'bin', 'millwright.cjs') };
}
