<?php
/**
 * Authorization-code format shared by the fake identity provider page
 * (tests/mediawiki/www/idp.php) and the wiki-side provider.
 *
 * This file deliberately has no MediaWiki dependencies: idp.php runs outside
 * MediaWiki (plain `php -S`) and simply require()s it, so both sides use the
 * very same code format and there is no back channel (token endpoint) to
 * simulate.
 *
 * Code format:  base64url( JSON {"sub","state","exp"} ) "." base64url( HMAC-SHA256 )
 * The HMAC covers the first (encoded) part and uses a shared secret that lives
 * in a file next to LocalSettings.php (see settings.php).
 *
 * @file
 * @license GPL-2.0-or-later
 */

namespace MediaWiki\Extension\TestIdP;

class CodeSigner {

	/** @var string */
	private $secret;

	/**
	 * @param string $secret Shared HMAC secret
	 */
	public function __construct( string $secret ) {
		if ( strlen( $secret ) < 16 ) {
			throw new \InvalidArgumentException( 'TestIdP secret is missing or too short' );
		}
		$this->secret = $secret;
	}

	/**
	 * Read the shared secret from $path, creating it with random content if
	 * it does not exist yet.
	 *
	 * Creation is race-free: several `php -S` workers may hit a fresh wiki at
	 * the same time, so the secret is written to a temporary file and then
	 * hard-linked into place; link() fails if another process won, in which
	 * case we simply read the winner's secret.
	 *
	 * @param string $path
	 * @return string
	 */
	public static function loadOrCreateSecret( string $path ): string {
		if ( !is_file( $path ) ) {
			$tmp = $path . '.' . bin2hex( random_bytes( 6 ) ) . '.tmp';
			file_put_contents( $tmp, bin2hex( random_bytes( 32 ) ) . "\n" );
			chmod( $tmp, 0600 );
			// @ because losing the race is expected and harmless
			@link( $tmp, $path );
			unlink( $tmp );
		}
		$secret = trim( (string)file_get_contents( $path ) );
		if ( $secret === '' ) {
			throw new \RuntimeException( "TestIdP secret file $path is empty" );
		}
		return $secret;
	}

	/**
	 * Issue an authorization code.
	 *
	 * @param string $identity Identity (subject) at the IdP
	 * @param string $state The state the relying party sent; binding the code to
	 *  it means a code cannot be replayed into another login attempt.
	 * @param int $ttl Lifetime in seconds
	 * @return string
	 */
	public function issue( string $identity, string $state, int $ttl = 300 ): string {
		$payload = self::base64UrlEncode( json_encode(
			[ 'sub' => $identity, 'state' => $state, 'exp' => time() + $ttl ],
			JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
		) );
		return $payload . '.' . $this->sign( $payload );
	}

	/**
	 * Verify an authorization code.
	 *
	 * @param string $code
	 * @param string $state State expected to be embedded in the code
	 * @param string|null &$error Set to 'malformed', 'signature', 'state' or 'expired'
	 * @return string|null The identity, or null if the code is not valid
	 */
	public function verify( string $code, string $state, ?string &$error = null ): ?string {
		$parts = explode( '.', $code );
		if ( count( $parts ) !== 2 ) {
			$error = 'malformed';
			return null;
		}
		[ $payload, $mac ] = $parts;
		// Check the MAC before looking at the payload at all
		if ( !hash_equals( $this->sign( $payload ), $mac ) ) {
			$error = 'signature';
			return null;
		}
		$data = json_decode( (string)self::base64UrlDecode( $payload ), true );
		if ( !is_array( $data ) || !isset( $data['sub'], $data['state'], $data['exp'] )
			|| !is_string( $data['sub'] ) || $data['sub'] === ''
		) {
			$error = 'malformed';
			return null;
		}
		if ( !hash_equals( (string)$data['state'], $state ) ) {
			$error = 'state';
			return null;
		}
		if ( (int)$data['exp'] < time() ) {
			$error = 'expired';
			return null;
		}
		return $data['sub'];
	}

	private function sign( string $payload ): string {
		return self::base64UrlEncode( hash_hmac( 'sha256', $payload, $this->secret, true ) );
	}

	public static function base64UrlEncode( string $data ): string {
		return rtrim( strtr( base64_encode( $data ), '+/', '-_' ), '=' );
	}

	/**
	 * @param string $data
	 * @return string|false
	 */
	public static function base64UrlDecode( string $data ) {
		return base64_decode( strtr( $data, '-_', '+/' ), true );
	}
}
