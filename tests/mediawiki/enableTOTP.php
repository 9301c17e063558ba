<?php
/**
 * Test-only maintenance script: enable OATHAuth TOTP for a user with a known
 * secret (and known recovery codes), so tests can compute codes with pyotp.
 *
 * MediaWiki 1.39 has no maintenance/run.php, so this script bootstraps
 * itself through Maintenance.php like the scripts shipped with extensions:
 *
 *   MW_CONFIG_FILE=/path/LocalSettings.php \
 *     php tests/mediawiki/enableTOTP.php Carol JBSWY3DPEHPK3PXP [CODE1,CODE2]
 */

use MediaWiki\Extension\OATHAuth\Key\TOTPKey;
use MediaWiki\MediaWikiServices;

$IP = getenv( 'MW_INSTALL_PATH' ) ?: '/usr/share/mediawiki';
require_once "$IP/maintenance/Maintenance.php";

class EnableTOTP extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addDescription( 'Enable TOTP two-factor authentication for a user with a given secret' );
		$this->addArg( 'user', 'Existing user name' );
		$this->addArg( 'secret', 'Base32 TOTP secret (as used by pyotp)' );
		$this->addArg( 'recovery', 'Comma-separated recovery codes', false );
		$this->requireExtension( 'OATHAuth' );
	}

	public function execute() {
		$services = MediaWikiServices::getInstance();
		$user = $services->getUserFactory()->newFromName( $this->getArg( 0 ) );
		if ( !$user || !$user->isRegistered() ) {
			$this->fatalError( 'No such user: ' . $this->getArg( 0 ) );
		}
		$secret = strtoupper( rtrim( $this->getArg( 1 ), '=' ) );
		if ( !preg_match( '/^[A-Z2-7]{16,}$/', $secret ) ) {
			$this->fatalError( "Secret must be base32 with at least 16 characters, got '$secret'" );
		}
		$recovery = array_filter( explode( ',', $this->getArg( 2, '' ) ) );

		$repo = $services->getService( 'OATHUserRepository' );
		$module = $services->getService( 'OATHAuth' )->getModuleByKey( 'totp' );
		// Mirror TOTPEnableForm::onSubmit: persist() re-reads the user through the
		// repository's in-process cache, which must hold this very object.
		$oathUser = $repo->findByUser( $user );
		$oathUser->setKeys( [ new TOTPKey( $secret, $recovery ) ] );
		$oathUser->setModule( $module );
		$repo->persist( $oathUser, 'maintenance' );

		$this->output( "TOTP enabled for {$user->getName()}\n" );
	}
}

$maintClass = EnableTOTP::class;
require_once RUN_MAINTENANCE_IF_MAIN;
