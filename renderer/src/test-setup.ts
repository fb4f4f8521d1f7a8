// Component tests: unmount what a test mounted, so the next test starts from an empty document.
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';

afterEach(() => cleanup());
