// Shared pieces: the error banner (Azure's code and message for every refused call) and a hook
// that turns a call into a banner on failure.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Problem { code: string; message: string; status?: number }
export const BannerContext = createContext<(p: Problem | null) => void>(() => {});

export function Banner({ problem, onClose }: { problem: Problem | null; onClose: () => void }) {
  if (!problem) return null;
  return (
    <div class="banner" role="alert" data-testid="error-banner">
      <strong class="banner-code">{problem.code}</strong>
      <span class="banner-message">{problem.message}</span>
      <button class="link" aria-label="Dismiss error" onClick={onClose}>✕</button>
    </div>
  );
}

/** Wraps an action: clears the banner, runs it, and shows any error in the banner. */
export function useAct() {
  const show = useContext(BannerContext);
  return async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    show(null);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) show({ code: e.code, message: e.message, status: e.status });
      else show({ code: 'ClientError', message: String((e as Error)?.message ?? e) });
      return undefined;
    }
  };
}
