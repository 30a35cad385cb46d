import { useState } from 'react';
import { useApp } from '../../store';

const ACCEPT = '.jsonl,.ndjson,.json,.csv,.tsv,.yaml,.yml,.txt';

// Drag and drop or pick a file; either way the file is read in the data worker.
export function DropZone() {
  const setDataFile = useApp((s) => s.setDataFile);
  const [over, setOver] = useState(false);
  const take = (files: FileList | null) => {
    const f = files?.[0];
    if (f) void setDataFile(f, { kind: 'upload', name: f.name, size: f.size });
  };
  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
    >
      <p>Drop a preference file here, or</p>
      <label className="file-label" htmlFor="pairs-file">
        Preference pairs file
      </label>{' '}
      <input id="pairs-file" type="file" accept={ACCEPT} onChange={(e) => take(e.target.files)} />
    </div>
  );
}
