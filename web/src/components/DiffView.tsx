/**
 * A redacted unified diff, rendered by react-diff-view (loaded on demand: only the Sync view
 * needs it). Lines are React text nodes, never markup. Python's difflib writes plain
 * `--- a` / `+++ b` headers, one pair per file (a change with a companion file holds two);
 * the parser wants git's `diff --git` line before each, so it is added per file here.
 */
import { useMemo } from "react";
import { Diff, Hunk, parseDiff, type FileData } from "react-diff-view";
import "react-diff-view/style/index.css";

const FILE_START = /^--- .*\n\+\+\+ .*$/gm;

/** Split a multi-file unified diff into one text per file (each starting at its `---`). */
export function splitFiles(diff: string): string[] {
  const starts = [...diff.matchAll(FILE_START)].map((m) => m.index);
  if (starts.length === 0) return diff.trim() ? [diff] : [];
  return starts.map((start, i) => diff.slice(start, starts[i + 1] ?? diff.length));
}

function parse(diff: string): FileData[] | null {
  try {
    return splitFiles(diff).flatMap((text) => parseDiff(`diff --git a/f b/f\n${text}`));
  } catch {
    return null; // shown as plain text below: a diff the parser cannot read is still readable
  }
}

export default function DiffView({ diff, label }: { diff: string; label: string }) {
  const files = useMemo(() => parse(diff), [diff]);
  if (!diff.trim()) return <p className="muted">No textual change.</p>;
  if (files === null || files.every((f) => f.hunks.length === 0)) {
    return (
      <pre className="diff-raw" aria-label={label}>
        {diff}
      </pre>
    );
  }
  return (
    <div className="diff" role="group" aria-label={label}>
      {files.map((file, i) => (
        <Diff key={i} viewType="unified" diffType={file.type} hunks={file.hunks}>
          {(hunks) => hunks.map((hunk, j) => <Hunk key={`${String(j)}:${hunk.content}`} hunk={hunk} />)}
        </Diff>
      ))}
    </div>
  );
}
