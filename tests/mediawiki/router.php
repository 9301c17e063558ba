<?php
/**
 * Router for `php -S` serving MediaWiki from /usr/share/mediawiki
 * (see devwiki/wikiserver.py).
 *
 * /_test/NAME.php[/...] is served by tests/mediawiki/www/NAME.php (test-only
 * pages such as a fake identity provider); anything else falls through to the
 * built-in server, which runs MediaWiki's own entry points and serves assets.
 */

$path = parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );

// Browsers fetch /favicon.ico on their own, at any time after a page of this
// origin (the fake provider's) was shown. Neither MediaWiki package ships one,
// so php -S would run index.php, which redirects to the main page: a wiki
// request no test made. No icon here, answered at once.
if ( $path === '/favicon.ico' ) {
	http_response_code( 404 );
	return true;
}

if ( strncmp( $path, '/_test/', 7 ) !== 0 ) {
	return false;
}

// php -S only logs requests it serves itself; log ours in the same format so
// WikiServer.requests_since() sees them too.
register_shutdown_function( static function () {
	file_put_contents( 'php://stderr', sprintf(
		"[%d] [%s] %s:%s [%d]: %s %s\n",
		getmypid(), date( 'D M j H:i:s Y' ), $_SERVER['REMOTE_ADDR'], $_SERVER['REMOTE_PORT'],
		http_response_code(), $_SERVER['REQUEST_METHOD'], $_SERVER['REQUEST_URI']
	) );
} );

if ( preg_match( '#^/_test/([A-Za-z0-9_-]+)\.php(/.*)?$#', $path, $m ) ) {
	$file = __DIR__ . '/www/' . $m[1] . '.php';
	if ( is_file( $file ) ) {
		require $file;
		return true;
	}
}
http_response_code( 404 );
header( 'Content-Type: text/plain' );
echo "Not found\n";
return true;
