// The renderer's build. The Electron shell loads renderer-dist/ from its app:// scheme; the end-to-end tests serve
// the same folder over HTTP. `base: './'` keeps every asset URL relative so both work.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../renderer-dist', emptyOutDir: true, sourcemap: true, target: 'chrome130' },
  logLevel: 'warn',
});
