/**
 * Runs `onnx.checker.check_model(model, full_check=True)` from Debian's
 * python3-onnx on a model file, for tests and CI (the app itself never needs
 * Python). Fails loudly when Python or its onnx module is missing rather than
 * passing without a check.
 */
import { spawnSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import sys
try:
    import onnx
except ImportError:
    sys.stderr.write("MISSING_ONNX")
    sys.exit(3)
for path in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(path), full_check=True)
`;

/** Throws with the checker's message when a model is not valid ONNX. */
export function checkOnnxModel(...paths: string[]): void {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, ...paths], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`Could not run ${PYTHON} to check ONNX models (${r.error.message}). Install Python 3 and python3-onnx: apt-get install python3-onnx`);
  if (r.status === 3 && r.stderr.includes('MISSING_ONNX')) throw new Error(`${PYTHON} has no onnx module, so ONNX models cannot be checked. Install it: apt-get install python3-onnx`);
  if (r.status !== 0) throw new Error(`onnx.checker rejected ${paths.join(', ')}:\n${r.stderr.trim().split('\n').slice(-8).join('\n')}`);
}
