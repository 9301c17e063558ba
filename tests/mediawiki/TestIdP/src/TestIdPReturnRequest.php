<?php
/**
 * @file
 * @license GPL-2.0-or-later
 */

namespace MediaWiki\Extension\TestIdP;

use MediaWiki\Auth\AuthenticationRequest;

/**
 * What the identity provider hands back after the redirect: `code` and `state`
 * on success, or `error` and `state` if the user cancelled.
 *
 * MediaWiki 1.39 core has no generic redirect-return request, hence this
 * class. API clients continue with `logincontinue=1&code=...&state=...` (or
 * `error=...&state=...`); the web UI gets the same values from the query
 * string of Special:UserLogin/return.
 */
class TestIdPReturnRequest extends AuthenticationRequest {

	/** @var string|null Authorization code issued by the IdP */
	public $code = null;

	/** @var string|null State echoed back by the IdP */
	public $state = null;

	/** @var string|null OAuth-style error code, e.g. 'access_denied' */
	public $error = null;

	/**
	 * @inheritDoc
	 */
	public function getFieldInfo() {
		return [
			'code' => [
				'type' => 'string',
				'label' => wfMessage( 'testidp-code-label' ),
				'help' => wfMessage( 'testidp-code-help' ),
				// Not present when the IdP returns an error
				'optional' => true,
				// Bearer-ish secret: keeps it out of logs and forces POST in the API
				'sensitive' => true,
			],
			'state' => [
				'type' => 'string',
				'label' => wfMessage( 'testidp-state-label' ),
				'help' => wfMessage( 'testidp-state-help' ),
			],
			'error' => [
				'type' => 'string',
				'label' => wfMessage( 'testidp-error-label' ),
				'help' => wfMessage( 'testidp-error-help' ),
				'optional' => true,
			],
		];
	}

	/**
	 * The default implementation wants every field to be present in the
	 * submission (even optional ones, as empty strings). An IdP sends either
	 * code+state or error+state, so accept exactly that.
	 *
	 * @param array $data
	 * @return bool
	 */
	public function loadFromSubmission( array $data ) {
		foreach ( [ 'code', 'state', 'error' ] as $field ) {
			$this->$field = isset( $data[$field] ) && is_string( $data[$field] ) && $data[$field] !== ''
				? $data[$field] : null;
		}
		return $this->state !== null && ( $this->code !== null || $this->error !== null );
	}

	/**
	 * @inheritDoc
	 */
	public function getMetadata() {
		return [ 'provider' => 'testidp' ];
	}

	/**
	 * @inheritDoc
	 */
	public function describeCredentials() {
		return [
			'provider' => wfMessage( 'testidp-provider' ),
			'account' => wfMessage( 'testidp-return-account' ),
		];
	}
}
