import { useState } from 'react';
import type { ServerProfile } from '../../src-main/shared/domain';
import { useStore } from '../stores/store';

/** The profile a screen works on: the one chosen, or the first while none (or a deleted one) is chosen. */
export function useChosenProfile(): [profileId: string | undefined, choose: (id: string) => void] {
  const profiles = useStore((s) => s.profiles);
  const [chosen, choose] = useState<string>();
  return [profiles.some((p) => p.id === chosen) ? chosen : profiles[0]?.id, choose];
}

/** A labelled select of the server profiles (shown only when there is at least one). */
export function ProfileSelect({
  name,
  label,
  value,
  onChange,
  describe = (p) => p.name,
}: {
  readonly name: string;
  readonly label: string;
  readonly value: string | undefined;
  readonly onChange: (id: string) => void;
  readonly describe?: (p: ServerProfile) => string;
}) {
  const profiles = useStore((s) => s.profiles);
  if (profiles.length === 0) return null;
  return (
    <label className="row">
      <span>{label}</span>
      <select name={name} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        {profiles.map((p) => (
          <option key={p.id} value={p.id}>
            {describe(p)}
          </option>
        ))}
      </select>
    </label>
  );
}
