package jit

allow if input.request.role == "deploy"
