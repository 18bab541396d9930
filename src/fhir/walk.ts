/**
 * Visits every object in a JSON tree (arrays looked through), iteratively: no nesting depth can
 * hide a node or overflow the stack.
 */
export function walkObjects(root: unknown, visit: (o: Record<string, unknown>) => void): void {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item)
      continue
    }
    const o = node as Record<string, unknown>
    visit(o)
    for (const value of Object.values(o)) if (value !== null && typeof value === 'object') stack.push(value)
  }
}
