<?php
/**
 * @file
 * @license GPL-2.0-or-later
 */

namespace MediaWiki\Extension\TestIdP;

use MediaWiki\Auth\AbstractPrimaryAuthenticationProvider;
use MediaWiki\Auth\AuthenticationRequest;
use MediaWiki\Auth\AuthenticationResponse;
use MediaWiki\Auth\AuthManager;
use MediaWiki\Auth\ButtonAuthenticationRequest;
use MWCryptRand;
use StatusValue;
use User;

/**
 * Primary authentication provider that simulates a third-party identity
 * provider (OpenID Connect style authorization-code flow, without the token
 * endpoint: the code is HMAC-signed and verified locally, see CodeSigner).
 *
 * Flow (login):
 *  1. The client submits the `testidplogin` button. We remember a random state
 *     in the authentication session and answer REDIRECT to the IdP page with
 *     redirect_uri=<returnToUrl> and state.
 *  2. The IdP sends the browser back to the return URL with code+state (or
 *     error+state). The client continues with those (TestIdPReturnRequest).
 *  3. We check the state, verify the code, and map the identity to a local
 *     user via the LinkStore: linked → PASS as that user (secondary providers
 *     such as OATHAuth still run); unlinked → PASS with no user, which
 *     AuthManager turns into RESTART, carrying a createRequest (for
 *     `createpreservestate`) and a linkRequest (for link-after-login).
 *
 * Account creation (TYPE_LINK) links the identity to the new account, either
 * from the preserved createRequest or after a fresh `testidpcreate` redirect.
 * Account linking (Special:LinkAccounts / action=linkaccount) uses the
 * `testidplink` button the same way.
 */
class TestIdPPrimaryAuthenticationProvider extends AbstractPrimaryAuthenticationProvider {

	/** Button field names, one per action so clients can tell them apart */
	public const LOGIN_BUTTON = 'testidplogin';
	public const CREATE_BUTTON = 'testidpcreate';
	public const LINK_BUTTON = 'testidplink';

	/** Authentication session key holding the pending state and its action */
	private const SESSION_PENDING = 'TestIdP:pending';

	/** @var LinkStore|null */
	private $linkStore = null;

	/** @var CodeSigner|null */
	private $signer = null;

	/**
	 * @inheritDoc
	 */
	public function getAuthenticationRequests( $action, array $options ) {
		switch ( $action ) {
			case AuthManager::ACTION_LOGIN:
				return [ $this->newButton( self::LOGIN_BUTTON, 'login' ) ];

			case AuthManager::ACTION_CREATE:
				// A logged-in user creating an account for someone else should
				// not attach their own IdP identity to it.
				return $options['username'] === null
					? [ $this->newButton( self::CREATE_BUTTON, 'create' ) ]
					: [];

			case AuthManager::ACTION_LINK:
				return [ $this->newButton( self::LINK_BUTTON, 'link' ) ];

			case AuthManager::ACTION_REMOVE:
				// Also used for ACTION_UNLINK: one request per linked identity
				if ( $options['username'] === null ) {
					return [];
				}
				return array_map(
					static function ( $identity ) {
						return new TestIdPIdentityRequest( $identity );
					},
					$this->getLinkStore()->getIdentitiesForUser( $options['username'] )
				);

			default:
				return [];
		}
	}

	/**
	 * @param string $name Button name
	 * @param string $msgPart 'login', 'create' or 'link'
	 * @return ButtonAuthenticationRequest
	 */
	private function newButton( $name, $msgPart ) {
		// Required: this button is *the* way to use this primary provider, so
		// AuthManager marks it "primary-required" (an alternative to the
		// password fields of LocalPasswordPrimaryAuthenticationProvider).
		return new ButtonAuthenticationRequest(
			$name,
			wfMessage( "testidp-$msgPart-label" ),
			wfMessage( "testidp-$msgPart-help" ),
			true
		);
	}

	/* Login */

	/**
	 * @inheritDoc
	 */
	public function beginPrimaryAuthentication( array $reqs ) {
		$button = ButtonAuthenticationRequest::getRequestByName( $reqs, self::LOGIN_BUTTON );
		if ( !$button ) {
			return AuthenticationResponse::newAbstain();
		}
		return $this->beginRedirect( AuthManager::ACTION_LOGIN, $button->returnToUrl );
	}

	/**
	 * @inheritDoc
	 */
	public function continuePrimaryAuthentication( array $reqs ) {
		$identity = $this->verifyReturn( AuthManager::ACTION_LOGIN, $reqs );
		if ( $identity instanceof AuthenticationResponse ) {
			return $identity;
		}

		$username = $this->getLinkStore()->getUserForIdentity( $identity );
		if ( $username !== null ) {
			$this->logger->info( 'TestIdP: identity {identity} logs in as {user}',
				[ 'identity' => $identity, 'user' => $username ] );
			return AuthenticationResponse::newPass( $username );
		}

		// Valid identity, but no local account. A PASS without a user name makes
		// AuthManager answer RESTART; createRequest lets the client create an
		// account linked to this identity (createpreservestate=1), linkRequest
		// lets ConfirmLinkSecondaryAuthenticationProvider link it after a later
		// login with another method (loginpreservestate=1).
		$this->logger->info( 'TestIdP: identity {identity} is not linked to any user',
			[ 'identity' => $identity ] );
		$res = AuthenticationResponse::newPass( null );
		$res->createRequest = new TestIdPIdentityRequest( $identity );
		$res->linkRequest = new TestIdPIdentityRequest( $identity );
		return $res;
	}

	/* Account creation */

	/**
	 * @inheritDoc
	 */
	public function accountCreationType() {
		// We never hold accounts ourselves; we link IdP identities to local ones.
		return self::TYPE_LINK;
	}

	/**
	 * @inheritDoc
	 */
	public function beginPrimaryAccountCreation( $user, $creator, array $reqs ) {
		// Coming from an unlinked login: AuthManager added our createRequest
		// (already verified, and clients cannot forge it as it has no fields).
		$idReq = AuthenticationRequest::getRequestByClass( $reqs, TestIdPIdentityRequest::class );
		if ( $idReq ) {
			return $this->passCreation( $idReq->identity );
		}

		$button = ButtonAuthenticationRequest::getRequestByName( $reqs, self::CREATE_BUTTON );
		if ( $button ) {
			return $this->beginRedirect( AuthManager::ACTION_CREATE, $button->returnToUrl );
		}
		return AuthenticationResponse::newAbstain();
	}

	/**
	 * @inheritDoc
	 */
	public function continuePrimaryAccountCreation( $user, $creator, array $reqs ) {
		$identity = $this->verifyReturn( AuthManager::ACTION_CREATE, $reqs );
		if ( $identity instanceof AuthenticationResponse ) {
			return $identity;
		}
		return $this->passCreation( $identity );
	}

	/**
	 * @param string $identity
	 * @return AuthenticationResponse
	 */
	private function passCreation( $identity ) {
		$linked = $this->getLinkStore()->getUserForIdentity( $identity );
		if ( $linked !== null ) {
			return AuthenticationResponse::newFail(
				wfMessage( 'testidp-error-linked-other' )->plaintextParams( $identity, $linked )
			);
		}
		// The user does not exist yet, so the link is made in
		// finishAccountCreation(); like LocalPasswordPrimaryAuthenticationProvider
		// we carry the data there in the PASS response's createRequest.
		$res = AuthenticationResponse::newPass();
		$res->createRequest = new TestIdPIdentityRequest( $identity );
		return $res;
	}

	/**
	 * @inheritDoc
	 */
	public function finishAccountCreation( $user, $creator, AuthenticationResponse $response ) {
		if ( $response->createRequest instanceof TestIdPIdentityRequest ) {
			$identity = $response->createRequest->identity;
			$this->getLinkStore()->link( $identity, $user->getName() );
			$this->logger->info( 'TestIdP: created {user} linked to identity {identity}',
				[ 'identity' => $identity, 'user' => $user->getName() ] );
		}
		return null;
	}

	/* Account linking */

	/**
	 * @inheritDoc
	 */
	public function beginPrimaryAccountLink( $user, array $reqs ) {
		// A verified identity handed over by server-side code
		$idReq = AuthenticationRequest::getRequestByClass( $reqs, TestIdPIdentityRequest::class );
		if ( $idReq ) {
			return $this->linkIdentity( $user, $idReq->identity );
		}

		$button = ButtonAuthenticationRequest::getRequestByName( $reqs, self::LINK_BUTTON );
		if ( $button ) {
			return $this->beginRedirect( AuthManager::ACTION_LINK, $button->returnToUrl );
		}
		return AuthenticationResponse::newAbstain();
	}

	/**
	 * @inheritDoc
	 */
	public function continuePrimaryAccountLink( $user, array $reqs ) {
		$identity = $this->verifyReturn( AuthManager::ACTION_LINK, $reqs );
		if ( $identity instanceof AuthenticationResponse ) {
			return $identity;
		}
		return $this->linkIdentity( $user, $identity );
	}

	/**
	 * @param User $user
	 * @param string $identity
	 * @return AuthenticationResponse
	 */
	private function linkIdentity( $user, $identity ) {
		$linked = $this->getLinkStore()->getUserForIdentity( $identity );
		if ( $linked !== null && $linked !== $user->getName() ) {
			return AuthenticationResponse::newFail(
				wfMessage( 'testidp-error-linked-other' )->plaintextParams( $identity, $linked )
			);
		}
		// Linking an already linked identity again is a harmless no-op
		if ( $linked === null ) {
			$this->getLinkStore()->link( $identity, $user->getName() );
			$this->logger->info( 'TestIdP: linked identity {identity} to {user}',
				[ 'identity' => $identity, 'user' => $user->getName() ] );
		}
		return AuthenticationResponse::newPass( $user->getName() );
	}

	/* Users and authentication data */

	/**
	 * @inheritDoc
	 */
	public function testUserExists( $username, $flags = User::READ_NORMAL ) {
		// Accounts are local accounts; this provider only links to them.
		return false;
	}

	/**
	 * @inheritDoc
	 */
	public function testUserCanAuthenticate( $username ) {
		$username = $this->userNameUtils->getCanonical( $username );
		return $username !== false
			&& $this->getLinkStore()->getIdentitiesForUser( $username ) !== [];
	}

	/**
	 * @inheritDoc
	 */
	public function providerNormalizeUsername( $username ) {
		// None of our requests carries a user name
		return null;
	}

	/**
	 * Only TestIdPIdentityRequest is ours: ACTION_CHANGE adds a link (that is
	 * how ConfirmLinkSecondaryAuthenticationProvider links after login),
	 * ACTION_REMOVE removes one.
	 *
	 * @inheritDoc
	 */
	public function providerAllowsAuthenticationDataChange(
		AuthenticationRequest $req, $checkData = true
	) {
		if ( !$req instanceof TestIdPIdentityRequest ) {
			return StatusValue::newGood( 'ignored' );
		}
		if ( !$checkData ) {
			return StatusValue::newGood();
		}

		$linked = $this->getLinkStore()->getUserForIdentity( $req->identity );
		if ( $req->action === AuthManager::ACTION_REMOVE ) {
			return $linked === $req->username
				? StatusValue::newGood()
				: StatusValue::newFatal(
					wfMessage( 'testidp-error-not-linked' )->plaintextParams( $req->identity ) );
		}

		if ( $linked === null ) {
			return StatusValue::newGood();
		}
		// Refusing an already-existing link (rather than accepting it as a
		// no-op) keeps ConfirmLink from offering to link the identity that
		// finishAccountCreation() has just linked.
		return $linked === $req->username
			? StatusValue::newFatal(
				wfMessage( 'testidp-error-already-linked' )->plaintextParams( $req->identity ) )
			: StatusValue::newFatal(
				wfMessage( 'testidp-error-linked-other' )->plaintextParams( $req->identity, $linked ) );
	}

	/**
	 * @inheritDoc
	 */
	public function providerChangeAuthenticationData( AuthenticationRequest $req ) {
		if ( !$req instanceof TestIdPIdentityRequest ) {
			return;
		}
		if ( $req->action === AuthManager::ACTION_REMOVE ) {
			$this->getLinkStore()->unlink( $req->identity );
			$this->logger->info( 'TestIdP: unlinked identity {identity} from {user}',
				[ 'identity' => $req->identity, 'user' => $req->username ] );
		} else {
			$this->getLinkStore()->link( $req->identity, $req->username );
			$this->logger->info( 'TestIdP: linked identity {identity} to {user}',
				[ 'identity' => $req->identity, 'user' => $req->username ] );
		}
	}

	/* The redirect round trip */

	/**
	 * Remember a fresh state and send the user to the IdP.
	 *
	 * @param string $action AuthManager::ACTION_LOGIN, _CREATE or _LINK
	 * @param string|null $returnToUrl Where the IdP should send the user back
	 *  (the API's loginreturnurl / createreturnurl / linkreturnurl)
	 * @return AuthenticationResponse
	 */
	private function beginRedirect( $action, $returnToUrl ) {
		if ( !$returnToUrl ) {
			return AuthenticationResponse::newFail( wfMessage( 'testidp-error-noreturnurl' ) );
		}

		$state = MWCryptRand::generateHex( 32 );
		// The action is stored too, so that a state issued for e.g. a login
		// cannot complete an account link.
		$this->manager->setAuthenticationSessionData(
			self::SESSION_PENDING, [ 'action' => $action, 'state' => $state ]
		);

		$params = [ 'redirect_uri' => $returnToUrl, 'state' => $state ];
		if ( $this->config->get( 'TestIdPResponseMode' ) === 'form_post' ) {
			$params['response_mode'] = 'form_post';
		}
		$url = wfAppendQuery( $this->getIdpUrl(), $params );

		return AuthenticationResponse::newRedirect( [ new TestIdPReturnRequest() ], $url );
	}

	/**
	 * Check what came back from the IdP.
	 *
	 * @param string $action Action the flow was started for
	 * @param AuthenticationRequest[] $reqs
	 * @return string|AuthenticationResponse The verified identity, or a FAIL
	 */
	private function verifyReturn( $action, array $reqs ) {
		$pending = $this->manager->getAuthenticationSessionData( self::SESSION_PENDING );
		// A state is good for one attempt only, successful or not
		$this->manager->removeAuthenticationSessionData( self::SESSION_PENDING );

		/** @var TestIdPReturnRequest|null $req */
		$req = AuthenticationRequest::getRequestByClass( $reqs, TestIdPReturnRequest::class );
		if ( !$req ) {
			return AuthenticationResponse::newFail( wfMessage( 'testidp-error-noresponse' ) );
		}

		// Check the state first: it is what ties this response to the
		// attempt that was started in this session (CSRF protection).
		if ( !is_array( $pending ) || $pending['action'] !== $action
			|| !hash_equals( $pending['state'], $req->state )
		) {
			$this->logger->info( 'TestIdP: state mismatch' );
			return AuthenticationResponse::newFail( wfMessage( 'testidp-error-state' ) );
		}

		if ( $req->error !== null ) {
			return AuthenticationResponse::newFail( $req->error === 'access_denied'
				? wfMessage( 'testidp-error-cancelled' )
				: wfMessage( 'testidp-error-idp' )->plaintextParams( $req->error )
			);
		}

		$error = null;
		$identity = $this->getSigner()->verify( (string)$req->code, $req->state, $error );
		if ( $identity === null ) {
			$this->logger->info( 'TestIdP: invalid code ({reason})', [ 'reason' => $error ] );
			return AuthenticationResponse::newFail( wfMessage( 'testidp-error-code' ) );
		}
		return $identity;
	}

	/* Configuration */

	/**
	 * @return string
	 */
	private function getIdpUrl() {
		$url = $this->config->get( 'TestIdPUrl' );
		// Default: the fake IdP page served next to the wiki by the test router
		return $url ?: wfExpandUrl( '/_test/idp.php', PROTO_CURRENT );
	}

	/**
	 * Default location for the provider's files: next to LocalSettings.php,
	 * which is also where the IdP page looks (via the MW_CONFIG_FILE
	 * environment variable).
	 *
	 * @param string $configName
	 * @param string $fileName
	 * @return string
	 */
	private function getFilePath( $configName, $fileName ) {
		return $this->config->get( $configName ) ?: dirname( MW_CONFIG_FILE ) . '/' . $fileName;
	}

	/**
	 * @return LinkStore
	 */
	private function getLinkStore() {
		if ( !$this->linkStore ) {
			$this->linkStore = new LinkStore(
				$this->config->get( 'TestIdPLinks' ),
				$this->getFilePath( 'TestIdPLinkStoreFile', 'testidp-links.json' )
			);
		}
		return $this->linkStore;
	}

	/**
	 * @return CodeSigner
	 */
	private function getSigner() {
		if ( !$this->signer ) {
			$this->signer = new CodeSigner( CodeSigner::loadOrCreateSecret(
				$this->getFilePath( 'TestIdPSecretFile', 'testidp.secret' )
			) );
		}
		return $this->signer;
	}
}
