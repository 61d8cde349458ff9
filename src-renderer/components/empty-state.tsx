import type { ReactNode } from 'react';

/** What a screen says when there is nothing yet, and what to do about it. */
export function EmptyState({ text, children }: { readonly text: string; readonly children?: ReactNode }) {
  return (
    <div className="empty-state">
      <p>{text}</p>
      {children}
    </div>
  );
}
