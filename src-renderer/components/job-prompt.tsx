import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { JobPrompt } from '../../src-main/shared/jobs';
import { useStore } from '../stores/store';

/** A job's question: confirm, trust a host key, or type a secret (sent to main, never kept here). */
export function JobPromptCard({ jobId, prompt }: { readonly jobId: string; readonly prompt: JobPrompt }) {
  const { t } = useTranslation();
  const answer = useStore((s) => s.answerJob);
  const [value, setValue] = useState('');
  const question = t(prompt.messageKey, { ...(prompt.values ?? {}) } as Record<string, string>);
  return (
    <div className="job-prompt" data-prompt-kind={prompt.kind}>
      <p>{question}</p>
      {prompt.kind === 'secret' && (
        <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} aria-label={question} />
      )}
      <div className="row">
        <button
          type="button"
          className="primary"
          onClick={() => {
            void answer(jobId, prompt.id, true, prompt.kind === 'secret' ? value : undefined);
            setValue('');
          }}
        >
          {t('prompts.accept')}
        </button>
        <button type="button" onClick={() => void answer(jobId, prompt.id, false)}>
          {t('prompts.reject')}
        </button>
      </div>
    </div>
  );
}
