// Attack: node's networking: connect to the host's TCP listener and resolve a name
// Source: DOMjudge test-network; udge socket / dns (in JavaScript)
// Expect: ACCEPTED with "BLOCKED tcp" and "BLOCKED dns"
'use strict';
const net = require('net');
const dns = require('dns');

const s = net.connect({host: '127.0.0.1', port: @PORT@});
s.on('connect', () => { console.log('ESCAPED tcp connected'); s.destroy(); });
s.on('error', (e) => console.log('BLOCKED tcp', e.code));
dns.lookup('example.com', (err, addr) => console.log(err ? 'BLOCKED dns ' + err.code : 'ESCAPED dns ' + addr));
