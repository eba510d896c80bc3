import type { KenvApi } from '../../shared/ipc.js';

declare global {
  interface Window {
    kenv: KenvApi;
  }
}
