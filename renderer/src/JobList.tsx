import { useContext, useEffect, useRef, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { Job } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { ErrorView, Fixes } from './ErrorView.js';
import { explain, keyLabel } from './explain.js';
import { formatBytes, formatDuration } from './format.js';

/** When each running job started, in the window's clock, to show speed and time left. */
function useRates(jobs: Job[]) {
  const started = useRef(new Map<string, number>());
  const [, tick] = useState(0);
  useEffect(() => {
    const running = jobs.some((j) => j.state === 'running');
    if (!running) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [jobs]);
  const now = performance.now();
  return (job: Job) => {
    if (job.state !== 'running') {
      started.current.delete(job.id);
      return null;
    }
    if (!started.current.has(job.id)) started.current.set(job.id, now);
    const seconds = (now - started.current.get(job.id)!) / 1000;
    if (seconds < 0.5 || job.bytesDone === 0) return null;
    const speed = job.bytesDone / seconds;
    const left = job.bytesTotal ? (job.bytesTotal - job.bytesDone) / speed : NaN;
    return { speed, left };
  };
}

const isFinished = (j: Job) => j.state === 'done' || j.state === 'failed' || j.state === 'cancelled';

/** "5 encrypted, 1 failed, 2 cancelled": a finished batch in one line. */
export function summary(batch: Job[]): string {
  const n = (pred: (j: Job) => boolean) => batch.filter(pred).length;
  const parts = [
    [n((j) => j.state === 'done' && j.direction === 'encrypt'), 'encrypted'],
    [n((j) => j.state === 'done' && j.direction === 'decrypt'), 'decrypted'],
    [n((j) => j.state === 'failed'), 'failed'],
    [n((j) => j.state === 'cancelled'), 'cancelled'],
  ] as const;
  return parts.filter(([c]) => c > 0).map(([c, w]) => `${c} ${w}`).join(', ');
}

export function JobList({ jobs, onError, onCleared }: { jobs: Job[]; onError: (e: ErrorInfo) => void; onCleared: (left: Job[]) => void }) {
  const rate = useRates(jobs);
  const fx = useContext(Fixes);
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (jobs.length === 0) return null;
  const act = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      onError(errorInfo(error));
    }
  };
  const batches = [...new Set(jobs.map((j) => j.batchId))].reverse();
  const retriable = jobs.filter((j) => j.state === 'failed' && j.error && explain(j.error, { keys: fx.keys, identity: fx.identity }).fixes.includes('retry'));
  const anyFinished = jobs.some(isFinished);

  return (
    <section className="jobs" aria-labelledby="jobs-title">
      <div className="jobs-head">
        <h2 id="jobs-title">Activity</h2>
        {retriable.length > 0 && (
          <button type="button" className="ghost small" onClick={() => void act(Promise.all(retriable.map((j) => call('jobs:retry', { jobId: j.id }))))}>
            Retry all failed ({retriable.length})
          </button>
        )}
        {anyFinished && <button type="button" className="ghost small" onClick={() => void act(call('jobs:clearFinished', {}).then(onCleared))}>Clear finished</button>}
      </div>
      {batches.map((batchId) => {
        const batch = jobs.filter((j) => j.batchId === batchId);
        const active = batch.filter((j) => j.state === 'queued' || j.state === 'running');
        const done = batch.filter((j) => j.state === 'done').length;
        const finished = active.length === 0;
        const expanded = open.has(batchId);
        // A finished batch collapses to its summary; failures stay in view with their fixes.
        const shown = batch.length > 1 && finished && !expanded ? batch.filter((j) => j.state === 'failed') : batch;
        const toggle = () => setOpen((s) => { const n = new Set(s); if (n.has(batchId)) n.delete(batchId); else n.add(batchId); return n; });
        return (
          <div className="batch" key={batchId} role="group" aria-label={`Batch of ${batch.length} ${batch.length === 1 ? 'file' : 'files'}`}>
            {batch.length > 1 && (
              <div className="batch-head">
                <span>{finished ? summary(batch) : `${done} of ${batch.length} files done`}</span>
                {active.length > 0 && <button type="button" className="ghost small" onClick={() => void act(call('jobs:cancel', { batchId }))}>Cancel all</button>}
                {finished && (
                  <button type="button" className="ghost small" aria-expanded={expanded} onClick={toggle}>{expanded ? 'Hide files' : `Show ${batch.length} files`}</button>
                )}
              </div>
            )}
            {shown.length > 0 && (
              <ul className="job-list">
                {shown.map((job) => <JobRow key={job.id} job={job} rate={rate(job)} act={act} />)}
              </ul>
            )}
          </div>
        );
      })}
    </section>
  );
}

function JobRow({ job, rate, act }: { job: Job; rate: { speed: number; left: number } | null; act: (p: Promise<unknown>) => Promise<void> }) {
  const fx = useContext(Fixes);
  const verb = job.direction === 'encrypt' ? 'Encrypt' : 'Decrypt';
  const percent = job.bytesTotal ? Math.min(100, Math.round((job.bytesDone / job.bytesTotal) * 100)) : null;
  const outName = job.outputPath?.split(/[\\/]/).pop();
  const keyIds = job.keyIds ?? [];
  const keyText = keyIds.length > 0 ? keyIds.map((k) => keyLabel(fx.keys, k)).join(' + ') : null;
  const outBytes = job.outputBytes ?? null;
  return (
    <li className={`job ${job.state}`} aria-label={`${verb} ${job.name}`}>
      <div className="job-main">
        <span className={`badge ${job.direction}`}>{verb}</span>
        <span className="job-name" title={job.path}>{job.name}</span>
        <span className="job-state">
          {job.state === 'queued' && 'Waiting'}
          {job.state === 'running' && (percent === null ? 'Working…' : `${percent}%`)}
          {job.state === 'done' && (job.direction === 'encrypt' ? 'Encrypted' : 'Decrypted')}
          {job.state === 'failed' && (job.error?.code === 'OUTPUT_EXISTS' ? 'Already exists' : 'Failed')}
          {job.state === 'cancelled' && 'Cancelled'}
        </span>
      </div>
      {job.state === 'queued' && (
        <div className="job-meta">
          <span>{job.bytesTotal !== null ? formatBytes(job.bytesTotal) : 'In the queue'}</span>
          <button type="button" className="ghost small" onClick={() => void act(call('jobs:cancel', { jobId: job.id }))} aria-label={`Cancel ${job.name}`}>Cancel</button>
        </div>
      )}
      {job.state === 'running' && (
        <>
          <div
            className="progress"
            role="progressbar"
            aria-label={`${verb}ing ${job.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent ?? undefined}
          >
            <div className="bar" style={{ width: `${percent ?? 0}%` }} />
          </div>
          <div className="job-meta">
            <span>
              {job.notice
                ? job.notice
                : job.bytesTotal === null && job.bytesDone === 0
                ? (job.direction === 'encrypt' ? 'Asking KMS for a data key…' : 'Asking KMS to open the data key…')
                : `${formatBytes(job.bytesDone)}${job.bytesTotal !== null ? ` of ${formatBytes(job.bytesTotal)}` : ''}`}
            </span>
            {rate && <span>{formatBytes(Math.round(rate.speed))}/s</span>}
            {rate && Number.isFinite(rate.left) && <span>{formatDuration(rate.left)} left</span>}
            <button type="button" className="ghost small" onClick={() => void act(call('jobs:cancel', { jobId: job.id }))} aria-label={`Cancel ${job.name}`}>Cancel</button>
          </div>
        </>
      )}
      {job.state === 'done' && job.outputPath && (
        <div className="job-meta">
          <span>Saved as <strong>{outName}</strong>{outBytes !== null ? ` · ${formatBytes(outBytes)}` : ''}{keyText ? <> · with <strong>{keyText}</strong></> : null}{job.inputDeleted ? ' · original moved to the trash' : ''}</span>
          <button type="button" className="ghost small" onClick={() => void act(call('shell:showInFolder', { path: job.outputPath! }))}>Show in folder</button>
          {job.direction === 'decrypt' && (
            <button type="button" className="ghost small" onClick={() => void act(call('shell:openPath', { path: job.outputPath! }))}>Open</button>
          )}
        </div>
      )}
      {job.state === 'failed' && job.error && (
        <div className="job-meta">
          <ErrorView error={job.error} keyId={keyIds[0]} name={job.name} direction={job.direction} onRetry={() => void act(call('jobs:retry', { jobId: job.id }))}>
            {job.error.code === 'OUTPUT_EXISTS' && (
              <>
                <button type="button" className="ghost small" onClick={() => void act(call('jobs:retry', { jobId: job.id, keepBoth: true }))} aria-label={`Keep both files for ${job.name}`}>Keep both</button>
                <button type="button" className="ghost small" onClick={() => void act(call('jobs:retry', { jobId: job.id, chooseFolder: true }))} aria-label={`Choose another folder for ${job.name}`}>Choose folder…</button>
                <button type="button" className="ghost small" onClick={() => void act(call('jobs:retry', { jobId: job.id, replace: true }))} aria-label={`Replace the existing file for ${job.name}`}>Replace…</button>
              </>
            )}
          </ErrorView>
        </div>
      )}
      {job.state === 'cancelled' && (
        <div className="job-meta">
          <span className="muted">Nothing was written.</span>
          <button type="button" className="ghost small" onClick={() => void act(call('jobs:retry', { jobId: job.id }))} aria-label={`Retry ${job.name}`}>Retry</button>
        </div>
      )}
    </li>
  );
}
