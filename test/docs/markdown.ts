// What the documentation test reads out of Markdown: code (fenced blocks and inline spans),
// `switchyard …` command lines in that code, links, and headings as GitHub anchors them.

/** A piece of code in a document, with the line it starts on (1-based). */
export interface CodePiece {
  readonly text: string;
  readonly line: number;
  readonly fenced: boolean;
  /** The fence's info string ("ts", "sh", "yaml", ...), "" for inline spans. */
  readonly lang: string;
}

/** Fenced blocks whole, and inline code spans of the text outside them. */
export function codePieces(markdown: string): CodePiece[] {
  const pieces: CodePiece[] = [];
  const lines = markdown.split('\n');
  let fence: { lang: string; line: number; body: string[]; marker: string } | undefined;
  lines.forEach((line, i) => {
    const open = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (fence) {
      if (open && open[1]!.startsWith(fence.marker)) {
        pieces.push({ text: fence.body.join('\n'), line: fence.line, fenced: true, lang: fence.lang });
        fence = undefined;
      } else fence.body.push(line);
      return;
    }
    if (open) {
      fence = { lang: open[2] ?? '', line: i + 2, body: [], marker: open[1]! };
      return;
    }
    for (const m of line.matchAll(/(`+)([^`]|[^`].*?[^`])\1(?!`)/g)) pieces.push({ text: m[2]!.trim(), line: i + 1, fenced: false, lang: '' });
  });
  return pieces;
}

/** The text outside fenced blocks and inline code (for links). */
export function prose(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let inFence = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return;
    }
    if (!inFence) out.push({ text: line.replace(/(`+)[^`].*?\1/g, '``'), line: i + 1 });
  });
  return out;
}

/** One `switchyard …` invocation: the words and flags after the command name, quoted strings replaced. */
export interface CommandLine {
  readonly tokens: string[];
  readonly line: number;
  readonly source: string;
}

/** Every `switchyard <args>` in a piece of code, up to the end of its shell command. */
export function commandLines(piece: CodePiece): CommandLine[] {
  const out: CommandLine[] = [];
  // Join continuation lines, then look at each line.
  const logical = piece.text.replace(/\\\n/g, ' ').split('\n');
  logical.forEach((text, offset) => {
    const unquoted = text.replace(/'[^']*'/g, 'Q').replace(/"[^"]*"/g, 'Q');
    for (const m of unquoted.matchAll(/(?<![\w./@:-])switchyard(?=\s)/g)) {
      const rest = unquoted.slice(m.index! + m[0].length);
      const end = rest.search(/\s(#|\|\||&&|;|&(?!\w)|>|\|\s)|[;)]/);
      const words = (end < 0 ? rest : rest.slice(0, end)).split(/\s+/).filter(Boolean);
      out.push({ tokens: words, line: piece.line + (piece.fenced ? offset : 0), source: text.trim() });
    }
  });
  return out;
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Inline links and images `[text](target)`, and reference definitions `[name]: target`. */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  for (const { text, line } of prose(markdown)) {
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, line });
    const def = /^\s{0,3}\[[^\]]+\]:\s+(\S+)/.exec(text);
    if (def) out.push({ target: def[1]!, line });
  }
  return out;
}

/** GitHub's anchors for the headings of a document (duplicates get -1, -2, …). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inFence = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(text)) inFence = !inFence;
    const m = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!m) continue;
    const heading = m[1]!.replace(/`/g, '').replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** a/{b,c}/d → a/b/d, a/c/d (one level of braces, as the docs write export lists). */
export function expandBraces(text: string): string[] {
  const m = /\{([^{}]*)\}/.exec(text);
  if (!m) return [text];
  return m[1]!.split(',').flatMap((alt) => expandBraces(text.slice(0, m.index) + alt + text.slice(m.index + m[0].length)));
}
