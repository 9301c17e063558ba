// A third party's captcha widget calls these (data-callback, data-expired-callback on its element):
// its token goes into the hidden field the wiki reads (captchaWord), and out again when it expires.
// A file of its own: the page's Content-Security-Policy allows no inline script.
'use strict';
window.wlCaptchaSolved = function (token) {
  document.querySelectorAll('input[data-wl-captcha]').forEach(function (input) { input.value = token; });
};
window.wlCaptchaExpired = function () {
  window.wlCaptchaSolved('');
};
