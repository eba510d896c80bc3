import { Component, type ReactNode } from 'react';

/** Keeps a rendering bug from leaving a blank window: says what happened and how to recover. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { message: string | null }> {
  override state = { message: null as string | null };

  static getDerivedStateFromError(error: unknown) {
    return { message: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    if (this.state.message === null) return this.props.children;
    return (
      <main className="crash" role="alert">
        <h1>Kenv hit a problem in this window</h1>
        <p>No file was changed by it. Reload the window to continue; running jobs keep going in the background.</p>
        <p className="muted"><code>{this.state.message}</code></p>
        <button type="button" className="primary" onClick={() => location.reload()}>Reload the window</button>
      </main>
    );
  }
}
