<?php
/**
 * @file
 * @license GPL-2.0-or-later
 */

namespace MediaWiki\Extension\TestIdP;

use MediaWiki\Auth\AuthenticationRequest;

/**
 * A TestIdP identity that has already been verified.
 *
 * It has no form fields, so a client can never submit one: instances only come
 * from the provider itself, which makes it safe to trust $identity. Used as
 *  - the `createRequest` of an unlinked login (AuthManager wraps it into a
 *    CreateFromLoginAuthenticationRequest, and `createpreservestate=1` feeds it
 *    to beginPrimaryAccountCreation() to create an account linked to it);
 *  - the `linkRequest` of an unlinked login (ConfirmLinkSecondaryAuthentication-
 *    Provider offers it after a later login with `loginpreservestate=1`, and
 *    passes it to providerChangeAuthenticationData() with ACTION_CHANGE);
 *  - the request returned for ACTION_REMOVE / ACTION_UNLINK, one per linked
 *    identity.
 */
class TestIdPIdentityRequest extends AuthenticationRequest {

	/** @var string Identity (subject) at the IdP */
	public $identity;

	/**
	 * @param string $identity
	 */
	public function __construct( string $identity ) {
		$this->identity = $identity;
	}

	/**
	 * One instance per identity: AuthManager deduplicates requests and keys
	 * ConfirmLink's `maybeLink` list by this id.
	 *
	 * @inheritDoc
	 */
	public function getUniqueId() {
		return parent::getUniqueId() . ':' . $this->identity;
	}

	/**
	 * @inheritDoc
	 */
	public function getFieldInfo() {
		return [];
	}

	/**
	 * @inheritDoc
	 */
	public function describeCredentials() {
		return [
			'provider' => wfMessage( 'testidp-provider' ),
			'account' => new \RawMessage( '$1', [ $this->identity ] ),
		];
	}

	/**
	 * Needed because the constructor has a required parameter.
	 *
	 * @param array $data
	 * @return TestIdPIdentityRequest
	 */
	public static function __set_state( $data ) {
		$ret = new static( $data['identity'] );
		foreach ( $data as $k => $v ) {
			$ret->$k = $v;
		}
		return $ret;
	}
}
