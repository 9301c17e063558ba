<?php
/**
 * @file
 * @license GPL-2.0-or-later
 */

namespace MediaWiki\Extension\TestIdP;

/**
 * Maps TestIdP identities to local wiki user names.
 *
 * Two layers:
 *  - static links from $wgTestIdPLinks (identity => user name), so tests have
 *    linked identities without any setup;
 *  - dynamic links in a small JSON file ($wgTestIdPLinkStoreFile), written when
 *    an account is created or linked with TestIdP. A JSON null in the file
 *    masks a static link, which is how a static link gets unlinked.
 *
 * A file instead of a DB table keeps the test extension free of schema
 * updates; writes are serialised with flock() because `php -S` may run
 * several workers.
 */
class LinkStore {

	/** @var array<string,string> */
	private $staticLinks;

	/** @var string */
	private $file;

	/**
	 * @param array<string,string> $staticLinks
	 * @param string $file Path of the JSON file holding dynamic links
	 */
	public function __construct( array $staticLinks, string $file ) {
		$this->staticLinks = $staticLinks;
		$this->file = $file;
	}

	/**
	 * @param string $identity
	 * @return string|null Linked user name, if any
	 */
	public function getUserForIdentity( string $identity ): ?string {
		return $this->getAllLinks()[$identity] ?? null;
	}

	/**
	 * @param string $username
	 * @return string[] Identities linked to $username
	 */
	public function getIdentitiesForUser( string $username ): array {
		// PHP turns numeric-string keys into ints; identities are strings
		return array_map( 'strval', array_keys( $this->getAllLinks(), $username, true ) );
	}

	/**
	 * @param string $identity
	 * @param string $username
	 */
	public function link( string $identity, string $username ): void {
		$this->modify( static function ( array $links ) use ( $identity, $username ) {
			$links[$identity] = $username;
			return $links;
		} );
	}

	/**
	 * @param string $identity
	 */
	public function unlink( string $identity ): void {
		$this->modify( function ( array $links ) use ( $identity ) {
			if ( isset( $this->staticLinks[$identity] ) ) {
				// Mask the static link
				$links[$identity] = null;
			} else {
				unset( $links[$identity] );
			}
			return $links;
		} );
	}

	/**
	 * @return array<string,string> Effective identity => user name map
	 */
	private function getAllLinks(): array {
		// `+` rather than array_merge(): the file wins, and numeric-looking
		// identities must not be renumbered.
		$links = $this->readFile() + $this->staticLinks;
		return array_filter( $links, 'is_string' );
	}

	/**
	 * @return array<string,string|null>
	 */
	private function readFile(): array {
		if ( !is_file( $this->file ) ) {
			return [];
		}
		$fh = fopen( $this->file, 'r' );
		if ( !$fh ) {
			return [];
		}
		flock( $fh, LOCK_SH );
		$json = stream_get_contents( $fh );
		flock( $fh, LOCK_UN );
		fclose( $fh );
		$data = json_decode( (string)$json, true );
		return is_array( $data ) ? $data : [];
	}

	/**
	 * Read-modify-write the JSON file under an exclusive lock.
	 *
	 * @param callable $callback function ( array $links ): array
	 */
	private function modify( callable $callback ): void {
		$fh = fopen( $this->file, 'c+' );
		if ( !$fh ) {
			throw new \RuntimeException( "TestIdP: cannot open link store {$this->file}" );
		}
		try {
			flock( $fh, LOCK_EX );
			$data = json_decode( (string)stream_get_contents( $fh ), true );
			$data = $callback( is_array( $data ) ? $data : [] );
			ftruncate( $fh, 0 );
			rewind( $fh );
			fwrite( $fh, json_encode( $data, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE ) . "\n" );
			fflush( $fh );
		} finally {
			flock( $fh, LOCK_UN );
			fclose( $fh );
		}
	}
}
