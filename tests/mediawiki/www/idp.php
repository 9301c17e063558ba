<?php
/**
 * TestIdP: a fake third-party identity provider for the wiki-login tests.
 *
 * Plain PHP (not MediaWiki), served at /_test/idp.php by the test router in
 * front of `php -S`. It plays the authorization endpoint of an OpenID Connect
 * style provider:
 *
 *   GET  ?redirect_uri=URL&state=S[&login_hint=ID][&response_mode=form_post]
 *        → consent page "Allow TestIdP to sign you in to Test Wiki as [ID]?"
 *   POST identity=ID&allow=1 (+ the parameters above, as hidden fields)
 *        → 302 to redirect_uri?code=C&state=S
 *          (response_mode=form_post: an auto-submitting form POSTs code and state)
 *   POST cancel=1
 *        → redirect_uri?error=access_denied&state=S
 *   GET  ...&prompt=none&login_hint=ID
 *        → approves ID at once, without showing the page (test shortcut)
 *
 * The code is signed with a secret shared with the TestIdP MediaWiki
 * extension (see ../TestIdP/src/CodeSigner.php), so the wiki can verify it
 * without calling back. The secret lives next to LocalSettings.php, found via
 * the MW_CONFIG_FILE environment variable (or TESTIDP_SECRET_FILE).
 *
 * Stable element ids for browser tests: #testidp-identity, #testidp-allow,
 * #testidp-cancel, #testidp-error; form_post page: #testidp-return, #testidp-continue.
 *
 * @file
 */

declare( strict_types = 1 );

require_once __DIR__ . '/../TestIdP/src/CodeSigner.php';

use MediaWiki\Extension\TestIdP\CodeSigner;

/** Lifetime of an authorization code, in seconds */
const TESTIDP_CODE_TTL = 300;

/**
 * HTML-escape for text and attribute values.
 */
function testidp_h( string $s ): string {
	return htmlspecialchars( $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8' );
}

/**
 * Send a complete HTML page.
 */
function testidp_page( int $status, string $title, string $body ): void {
	http_response_code( $status );
	header( 'Content-Type: text/html; charset=utf-8' );
	// Codes and states must not be cached or leaked via Referer
	header( 'Cache-Control: no-store' );
	header( 'Referrer-Policy: no-referrer' );
	header( 'X-Content-Type-Options: nosniff' );
	echo "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		. '<meta name="viewport" content="width=device-width, initial-scale=1">' . "\n"
		. '<title>' . testidp_h( $title ) . "</title>\n"
		. "<style>
body { font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em; color: #202122; }
h1 { font-size: 1.4em; }
label { display: block; margin: 1em 0 .3em; }
input[type=text] { width: 100%; padding: .4em; box-sizing: border-box; font-size: 1em; }
.buttons { margin-top: 1.2em; }
button { font-size: 1em; padding: .4em 1.2em; margin-right: .5em; }
#testidp-allow { background: #36c; color: #fff; border: 1px solid #36c; }
.error { color: #d33; }
.note { color: #54595d; font-size: .9em; }
</style>\n</head>\n<body>\n"
		. $body
		. "</body>\n</html>\n";
}

/**
 * Show an error page. Used when we cannot (or must not) send the user back.
 */
function testidp_fail( int $status, string $message ): void {
	testidp_page( $status, 'TestIdP — Error',
		"<h1>TestIdP</h1>\n<p class=\"error\" id=\"testidp-error\">" . testidp_h( $message ) . "</p>\n" );
	exit;
}

/**
 * Only absolute http(s) URLs are acceptable return addresses.
 */
function testidp_valid_redirect_uri( string $uri ): bool {
	if ( preg_match( '/[\x00-\x20\x7f]/', $uri ) ) {
		return false;
	}
	$bits = parse_url( $uri );
	return is_array( $bits )
		&& isset( $bits['scheme'], $bits['host'] )
		&& in_array( strtolower( $bits['scheme'] ), [ 'http', 'https' ], true )
		&& !isset( $bits['fragment'] );
}

/**
 * Add parameters to a URL, keeping its existing query string (e.g. "?x=1").
 */
function testidp_append_query( string $uri, array $params ): string {
	$query = http_build_query( $params, '', '&', PHP_QUERY_RFC3986 );
	if ( strpos( $uri, '?' ) === false ) {
		$sep = '?';
	} else {
		$sep = in_array( substr( $uri, -1 ), [ '?', '&' ], true ) ? '' : '&';
	}
	return $uri . $sep . $query;
}

/**
 * Send the user back to the relying party with $params.
 */
function testidp_respond( string $redirectUri, array $params, string $responseMode ): void {
	if ( $responseMode === 'form_post' ) {
		$fields = '';
		foreach ( $params as $name => $value ) {
			$fields .= '<input type="hidden" name="' . testidp_h( $name ) . '" value="'
				. testidp_h( $value ) . "\">\n";
		}
		// The script submits at once; the button is there for clients without JS.
		testidp_page( 200, 'TestIdP — Returning to Test Wiki',
			"<h1>TestIdP</h1>\n"
			. '<form id="testidp-return" method="post" action="' . testidp_h( $redirectUri ) . "\">\n"
			. $fields
			. "<p>Returning you to Test Wiki…</p>\n"
			. "<button type=\"submit\" id=\"testidp-continue\">Continue</button>\n"
			. "</form>\n"
			. "<script>document.getElementById('testidp-return').submit();</script>\n"
		);
		exit;
	}

	header( 'Cache-Control: no-store' );
	header( 'Referrer-Policy: no-referrer' );
	header( 'Location: ' . testidp_append_query( $redirectUri, $params ), true, 302 );
	exit;
}

/**
 * Where the secret shared with the wiki lives.
 */
function testidp_secret_file(): ?string {
	$file = getenv( 'TESTIDP_SECRET_FILE' );
	if ( is_string( $file ) && $file !== '' ) {
		return $file;
	}
	$config = getenv( 'MW_CONFIG_FILE' );
	if ( is_string( $config ) && $config !== '' ) {
		return dirname( $config ) . '/testidp.secret';
	}
	return null;
}

/**
 * The IdP's notion of a user name: trimmed and lower-cased, like an IdP that
 * accepts "Alice" at its login prompt but always reports the subject "alice".
 */
function testidp_normalize_identity( string $identity ): string {
	return mb_strtolower( trim( $identity ), 'UTF-8' );
}

/* Main */

$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
if ( $method !== 'GET' && $method !== 'POST' ) {
	header( 'Allow: GET, POST' );
	testidp_fail( 405, 'Method not allowed.' );
}

// Parameters may come in the query string (initial GET) or in the consent
// form (POST); ignore anything that is not a plain string.
$in = array_filter( array_merge( $_GET, $_POST ), 'is_string' );

$redirectUri = $in['redirect_uri'] ?? '';
$state = $in['state'] ?? '';
$responseMode = ( $in['response_mode'] ?? '' ) === 'form_post' ? 'form_post' : 'query';
$loginHint = $in['login_hint'] ?? '';

// Never send anyone to an address we cannot vouch for
if ( !testidp_valid_redirect_uri( $redirectUri ) ) {
	testidp_fail( 400, 'Invalid request: redirect_uri must be an absolute http(s) URL without a fragment.' );
}
if ( $state === '' ) {
	testidp_fail( 400, 'Invalid request: state is missing.' );
}

$secretFile = testidp_secret_file();
if ( $secretFile === null ) {
	testidp_fail( 500, 'TestIdP is not configured: set MW_CONFIG_FILE (or TESTIDP_SECRET_FILE) '
		. 'in the environment of the web server.' );
}

$errorHtml = '';
$identity = $loginHint;

if ( $method === 'POST' && isset( $in['cancel'] ) ) {
	testidp_respond( $redirectUri, [ 'error' => 'access_denied', 'state' => $state ], $responseMode );
}

$approve = null;
if ( $method === 'POST' && isset( $in['allow'] ) ) {
	$approve = $in['identity'] ?? '';
} elseif ( ( $in['prompt'] ?? '' ) === 'none' && $loginHint !== '' ) {
	$approve = $loginHint;
}

if ( $approve !== null ) {
	$identity = testidp_normalize_identity( $approve );
	if ( $identity === '' || mb_strlen( $identity, 'UTF-8' ) > 255 ) {
		$errorHtml = "<p class=\"error\" id=\"testidp-error\">Please enter an identity (at most 255 characters).</p>\n";
	} else {
		$signer = new CodeSigner( CodeSigner::loadOrCreateSecret( $secretFile ) );
		testidp_respond( $redirectUri, [
			'code' => $signer->issue( $identity, $state, TESTIDP_CODE_TTL ),
			'state' => $state,
		], $responseMode );
	}
}

// Consent page. The request parameters travel on as hidden fields.
$action = strtok( $_SERVER['REQUEST_URI'] ?? '/_test/idp.php', '?' );
$hidden = '';
foreach ( [ 'redirect_uri' => $redirectUri, 'state' => $state, 'response_mode' => $responseMode ] as $name => $value ) {
	$hidden .= '<input type="hidden" name="' . $name . '" value="' . testidp_h( $value ) . "\">\n";
}
$returnHost = (string)parse_url( $redirectUri, PHP_URL_HOST ) . (
	parse_url( $redirectUri, PHP_URL_PORT ) ? ':' . parse_url( $redirectUri, PHP_URL_PORT ) : ''
);

testidp_page( $errorHtml === '' ? 200 : 400, 'TestIdP — Sign in to Test Wiki',
	"<h1>TestIdP</h1>\n"
	. $errorHtml
	. '<form id="testidp-consent" method="post" action="' . testidp_h( (string)$action ) . "\">\n"
	. $hidden
	. "<p>Allow <strong>TestIdP</strong> to sign you in to <strong>Test Wiki</strong> as</p>\n"
	. "<label for=\"testidp-identity\">Identity</label>\n"
	. '<input type="text" id="testidp-identity" name="identity" value="' . testidp_h( $identity )
	. "\" required autofocus autocomplete=\"username\" spellcheck=\"false\">\n"
	. "<p class=\"note\">Any name works. On the test wikis, alice and carol are linked to wiki accounts; other names are not.</p>\n"
	. "<div class=\"buttons\">\n"
	. "<button type=\"submit\" id=\"testidp-allow\" name=\"allow\" value=\"1\">Allow</button>\n"
	// formnovalidate: cancelling must work with an empty identity field
	. "<button type=\"submit\" id=\"testidp-cancel\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button>\n"
	. "</div>\n"
	. '<p class="note">You will be returned to ' . testidp_h( $returnHost ) . ".</p>\n"
	. "</form>\n"
);
