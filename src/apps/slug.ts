// SPEC §4: the default id is the name lowercased, each run of other characters turned into "-", trimmed.
export function slugFromName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 64)
    .replace(/^-+|-+$/g, "");
}
