// Re-send the identity provider's form POST from our own page, so the browser
// includes our SameSite=Lax session cookie. Works without JS via the button.
document.getElementById('wl-relay').submit();
