package auth

// CookieName is the session cookie shared by the UI and API logins. The
// __Host- prefix makes browsers insist on Secure, Path=/ and no Domain, so a
// sibling host cannot plant or read it.
const CookieName = "__Host-kehu_session"
