// Attack: node reads host files and spawns a shell to look around
// Source: catalogue Reading what it should not (in JavaScript); Judge0 #564
// Expect: ACCEPTED; BLOCKED for the host files, the environment is clean
'use strict';
const fs = require('fs');
const cp = require('child_process');
for (const p of ['/etc/shadow', '@CANARY@', '/root/.bash_history', '/proc/1/environ']) {
        try {
                console.log('ESCAPED ' + p + ' ' + fs.readFileSync(p, 'utf8').slice(0, 80));
        } catch (e) {
                console.log('BLOCKED ' + p + ' ' + e.code);
        }
}
console.log('ENVKEYS ' + Object.keys(process.env).sort().join(','));
try {
        console.log('SH ' + cp.execSync('id -u; ls / | tr "\\n" " "').toString().trim());
} catch (e) {
        console.log('SH failed ' + e.message);
}
