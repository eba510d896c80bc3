import { describe, expect, it } from 'vitest';
import { KenvError, needs, toErrorInfo } from '../../../../electron/core/errors.js';

describe('KenvError', () => {
  it('crosses a boundary as a code and a sentence', () => {
    const info = toErrorInfo(new KenvError('FRAME_TAMPERED', 'Frame 3 failed authentication.'));
    expect(info).toEqual({ code: 'FRAME_TAMPERED', message: 'Frame 3 failed authentication.' });
  });

  it('wraps anything else as INTERNAL, keeping its message', () => {
    expect(toErrorInfo(new Error('boom'))).toMatchObject({ code: 'INTERNAL' });
    expect(toErrorInfo('boom').message).toContain('boom');
  });

  it('needs() throws the named code only when the condition fails', () => {
    expect(() => needs(true, 'MALFORMED_HEADER', 'x')).not.toThrow();
    expect(() => needs(0, 'MALFORMED_HEADER', 'bad field')).toThrowError(
      expect.objectContaining({ code: 'MALFORMED_HEADER', message: 'bad field' }),
    );
  });
});
