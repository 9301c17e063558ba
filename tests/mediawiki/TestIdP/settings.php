<?php
/**
 * LocalSettings.php snippet for test wikis that use TestIdP.
 *
 * Include it at the end of LocalSettings.php (after $wgServer is set):
 *
 *     require '/path/to/tests/mediawiki/TestIdP/settings.php';
 *
 * The fake IdP page (tests/mediawiki/www/idp.php) finds the shared secret
 * through the MW_CONFIG_FILE environment variable, so the wiki must be served
 * with MW_CONFIG_FILE pointing at this LocalSettings.php.
 *
 * Anything set here may be overridden after the require.
 *
 * @file
 */

if ( !defined( 'MEDIAWIKI' ) ) {
	exit( 1 );
}

wfLoadExtension( 'TestIdP', __DIR__ . '/extension.json' );

// The fake identity provider, served next to the wiki by the test router
// (/_test/NAME.php -> tests/mediawiki/www/NAME.php).
$wgTestIdPUrl = $wgServer . '/_test/idp.php';

// Identities that are linked from the start. 'carol' matters on wikis that
// also load OATHAuth: logging in as carol then asks for Carol's TOTP code.
// Any other identity (e.g. 'nobody') is unlinked and makes login RESTART.
$wgTestIdPLinks = [
	'alice' => 'Alice',
	'carol' => 'Carol',
];

// Files shared with the IdP page / written at runtime, next to LocalSettings.php
$wgTestIdPSecretFile = dirname( MW_CONFIG_FILE ) . '/testidp.secret';
$wgTestIdPLinkStoreFile = dirname( MW_CONFIG_FILE ) . '/testidp-links.json';

// 'query' (302 back to the return URL) or 'form_post' (auto-submitting form)
$wgTestIdPResponseMode = 'query';

// Create the shared secret now rather than on first use, so the IdP page can
// rely on it existing. CodeSigner is free of MediaWiki dependencies and the
// autoloader is not set up yet, hence the require.
require_once __DIR__ . '/src/CodeSigner.php';
MediaWiki\Extension\TestIdP\CodeSigner::loadOrCreateSecret( $wgTestIdPSecretFile );

// Core ships ConfirmLinkSecondaryAuthenticationProvider disabled. Enable it so
// that an unlinked TestIdP login (RESTART) can be linked to an existing account
// by logging in with a password and `loginpreservestate=1`, as with real SSO
// extensions.
$wgAuthManagerAutoConfig['secondaryauth'][MediaWiki\Auth\ConfirmLinkSecondaryAuthenticationProvider::class] = [
	'class' => MediaWiki\Auth\ConfirmLinkSecondaryAuthenticationProvider::class,
	'sort' => 100,
];
