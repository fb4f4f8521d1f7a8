import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// The renderer is a static bundle: loaded from file:// by Electron, and served by `effnet serve`.
// `vitest run --root renderer` runs the component tests (*.spec.ts) in jsdom with the API mocked.
export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  // Component tests mount Svelte's browser build (the default would be its server build under Node).
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  build: { outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)), emptyOutDir: true, sourcemap: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.ts'],
    setupFiles: ['./src/test-setup.ts'],
    restoreMocks: true,
  },
});
