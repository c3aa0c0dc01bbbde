// The one rule for the web UI's cookie names and flags. On https: `__Host-` (the browser then
// insists on Secure, Path=/ and no Domain, so only this exact origin can set or read it). On
// plain http a browser refuses both `__Host-` and Secure, so the plain name is used.
export function isHttps(publicUrl: string): boolean {
  return publicUrl.startsWith("https:");
}

export function cookieName(publicUrl: string, name: string): string {
  return isHttps(publicUrl) ? `__Host-${name}` : name;
}
