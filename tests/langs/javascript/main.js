// SPDX-License-Identifier: Apache-2.0
// Sentinel language test: node starts, runs a Promise through the event loop and prints OK.
'use strict';

const squares = [1, 2, 3].map((n) => Promise.resolve(n * n));
Promise.all(squares).then((v) => {
        if (v.reduce((a, b) => a + b, 0) !== 14)
                process.exit(1);
        console.log('OK');
});
