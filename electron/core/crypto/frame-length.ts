/**
 * The default frame length: 1 MiB, chosen with `npm run bench` (test/bench/RESULTS.md). Kenv's own file-to-file
 * speed is flat from 64 KiB to 4 MiB (within the noise of a shared machine). Below 1 MiB the official ESDK reads
 * Kenv files markedly slower (64 KiB: ~0.7× its 1 MiB speed); at 4 MiB every reader holds 4× more per frame and
 * Kenv's own peak RSS went over the 200 MiB budget (222 MiB). Per-frame overhead at 1 MiB: 32 bytes, 0.003 %.
 */
export const DEFAULT_FRAME_LENGTH = 1024 * 1024;
export const MIN_FRAME_LENGTH = 1;
/** Kenv writes frames of at most 64 MiB: every frame is held whole in memory on both sides. */
export const MAX_WRITE_FRAME_LENGTH = 64 * 1024 * 1024;
