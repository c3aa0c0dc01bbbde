// SASL XOAUTH2 (Google's and Microsoft's IMAP/SMTP OAuth mechanism): the initial client response
// is base64("user=" email ^A "auth=Bearer " token ^A ^A), ^A being \x01.
// https://developers.google.com/workspace/gmail/imap/xoauth2-protocol

export function xoauth2(email: string, accessToken: string): string {
  // A \x01 inside either value would end its field early and let it inject another one.
  if (!email || email.includes("\x01")) throw new TypeError("xoauth2: email must be non-empty and contain no \\x01");
  if (!accessToken || accessToken.includes("\x01")) throw new TypeError("xoauth2: accessToken must be non-empty and contain no \\x01");
  const bytes = new TextEncoder().encode(`user=${email}\x01auth=Bearer ${accessToken}\x01\x01`);
  // btoa takes a "binary string" (one char per byte), so UTF-8 addresses survive; no Buffer needed.
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
