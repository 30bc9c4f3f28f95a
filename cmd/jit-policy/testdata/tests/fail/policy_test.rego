package jit_test

import data.jit

test_allow_deploy if jit.allow with input as {"request": {"role": "deploy"}}

test_admin_is_allowed if jit.allow with input as {"request": {"role": "admin"}}
