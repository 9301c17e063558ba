<?php
/**
 * Test-only maintenance script: enable OATHAuth TOTP for a user with a known
 * secret (and known recovery codes), so tests can compute codes with pyotp.
 *
 * MediaWiki 1.39 has no maintenance/run.php, so this script bootstraps
 * itself through Maintenance.php like the scripts shipped with extensions
 * (which still works on 1.43):
 *
 *   MW_CONFIG_FILE=/path/LocalSettings.php \
 *     php tests/mediawiki/enableTOTP.php Carol JBSWY3DPEHPK3PXP [CODE1,CODE2]
 *
 * Enrols the key the way OATHAuth's own Special:OATHManage does on each
 * version (TOTPEnableForm::onSubmit):
 *  - OATHAuth of MediaWiki 1.39: one key set per user in `oathauth_users`;
 *    the `OATHAuth` service gives the module, the user object gets the keys
 *    and the module, OATHUserRepository::persist() writes them.
 *  - OATHAuth of MediaWiki 1.43: keys are rows of `oathauth_devices`, modules
 *    come from the `OATHAuthModuleRegistry` service (there is no `OATHAuth`
 *    service), and OATHUserRepository::createKey() adds one key.
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
		$recovery = array_values( array_filter( explode( ',', $this->getArg( 2, '' ) ) ) );

		$repo = $services->getService( 'OATHUserRepository' );
		// Both versions' forms persist through the repository's in-process
		// cache, which must hold this very object.
		$oathUser = $repo->findByUser( $user );
		if ( $services->hasService( 'OATHAuthModuleRegistry' ) ) {
			// 1.43: TOTPEnableForm::onSubmit() hands createKey() the new key's data.
			$module = $services->getService( 'OATHAuthModuleRegistry' )->getModuleByKey( 'totp' );
			if ( $oathUser->getKeys() ) {
				// Enrolling again replaces the key, as on 1.39 (createKey() would add one).
				$repo->removeAll( $oathUser, 'maintenance', false );
			}
			$key = TOTPKey::newFromArray( [ 'secret' => $secret, 'scratch_tokens' => $recovery ] );
			$repo->createKey( $oathUser, $module, $key->jsonSerialize(), 'maintenance' );
		} else {
			// 1.39
			$module = $services->getService( 'OATHAuth' )->getModuleByKey( 'totp' );
			$oathUser->setKeys( [ new TOTPKey( $secret, $recovery ) ] );
			$oathUser->setModule( $module );
			$repo->persist( $oathUser, 'maintenance' );
		}

		$this->output( "TOTP enabled for {$user->getName()}\n" );
	}
}

$maintClass = EnableTOTP::class;
require_once RUN_MAINTENANCE_IF_MAIN;
