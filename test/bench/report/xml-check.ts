/**
 * A small well-formedness check for the SVG the charts write: tags balance, attributes are quoted,
 * and every `&` starts one of the five predefined entities. Not a full XML parser; enough to catch
 * an unescaped name or a tag left open. Returns the problems found (none when well formed).
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const open: string[] = [];
  let roots = 0;
  const token =
    /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
  let last = 0;
  for (let match = token.exec(xml); match !== null; match = token.exec(xml)) {
    const between = xml.slice(last, match.index);
    if (open.length === 0 && between.trim() !== '') problems.push(`text outside the root: ${between.trim()}`);
    last = token.lastIndex;
    const [whole, closing, name, , selfClosing] = match;
    if (whole === '<') {
      problems.push(`stray < at ${match.index}`);
      continue;
    }
    if (whole.startsWith('&')) {
      problems.push(`bare & at ${match.index}`);
      continue;
    }
    if (closing) {
      const expected = open.pop();
      if (expected !== name) problems.push(`</${name}> closes <${expected}>`);
    } else {
      if (open.length === 0) roots += 1;
      if (!selfClosing) open.push(name);
    }
  }
  if (xml.slice(last).trim() !== '') problems.push('text after the root');
  if (open.length > 0) problems.push(`never closed: ${open.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
