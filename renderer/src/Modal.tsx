import { type ReactNode, useEffect, useRef } from 'react';

/**
 * A native modal dialog: focus moves in and is trapped, Escape closes it. Focus starts on the element marked
 * `data-default` (the default button, so Enter does the expected thing) and returns where it came from on close.
 */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const from = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    const preferred = dialog?.querySelector<HTMLElement>('[data-default]:not([disabled])');
    preferred?.focus();
    return () => {
      dialog?.close();
      // The element may be gone (a row replaced); then focus the main drop target's button rather than <body>.
      const back = from && from.isConnected ? from : document.querySelector<HTMLElement>('.dropzone button.primary');
      back?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} className={`modal${wide ? ' wide' : ''}`} aria-labelledby="modal-title" onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <h2 id="modal-title">{title}</h2>
      {children}
    </dialog>
  );
}
