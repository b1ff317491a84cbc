// Attack: node infinite loop
// Source: catalogue CPU busy loop (udge busy), in JavaScript
// Expect: TIME_LIMIT_EXCEEDED
'use strict';
let i = 0;
for (;;)
        i++;
