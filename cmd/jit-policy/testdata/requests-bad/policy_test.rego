package jit_test

import data.jit

test_allow_deploy if jit.allow with input as {"request": {"role": "deploy"}}

test_deny_other if not jit.allow with input as {"request": {"role": "admin"}}
