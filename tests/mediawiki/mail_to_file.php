<?php
/**
 * Test-only: every mail the wiki sends is written to a file instead of being
 * sent (tests/wikiserver.py requires this file for wikis started with
 * mail=True).  One JSON file per mail in the wiki directory's mail/:
 * {"to": [...], "from": "...", "subject": "...", "body": "..."}.
 *
 * $wgMailToFileDir is set by the harness before this file is required.
 */

$wgEnableEmail = true;
$wgPasswordSender = 'wiki@example.org';
$wgHooks['AlternateUserMailer'][] = static function ( $headers, $to, $from, $subject, $body ) {
	global $wgMailToFileDir;
	if ( !is_dir( $wgMailToFileDir ) ) {
		mkdir( $wgMailToFileDir, 0777, true );
	}
	$mail = [
		'to' => array_map( 'strval', $to ),
		'from' => (string)$from,
		'subject' => $subject,
		'body' => is_array( $body ) ? ( $body['text'] ?? '' ) : $body,
	];
	$name = sprintf( '%.6f-%d.json', microtime( true ), getmypid() );
	file_put_contents( "$wgMailToFileDir/$name", json_encode( $mail ) );
	// false: handled, nothing is sent.
	return false;
};
