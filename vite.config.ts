import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset paths so the same build loads from file:// in Electron and over HTTP in server mode.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
