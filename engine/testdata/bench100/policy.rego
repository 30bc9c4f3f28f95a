package jit

import data.jit.lib

allow if {
	input.token.repository_id == "100000"
	input.request.role == "role-0"
	lib.matches(`org/app-0/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 0: production needs the prod environment" if {
	input.request.role == "role-0"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100001"
	input.request.role == "role-1"
	lib.matches(`org/app-1/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 1: production needs the prod environment" if {
	input.request.role == "role-1"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100002"
	input.request.role == "role-2"
	lib.matches(`org/app-2/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 2: production needs the prod environment" if {
	input.request.role == "role-2"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100003"
	input.request.role == "role-3"
	lib.matches(`org/app-3/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 3: production needs the prod environment" if {
	input.request.role == "role-3"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100004"
	input.request.role == "role-4"
	lib.matches(`org/app-4/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 4: production needs the prod environment" if {
	input.request.role == "role-4"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100005"
	input.request.role == "role-5"
	lib.matches(`org/app-5/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 5: production needs the prod environment" if {
	input.request.role == "role-5"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100006"
	input.request.role == "role-6"
	lib.matches(`org/app-6/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 6: production needs the prod environment" if {
	input.request.role == "role-6"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100007"
	input.request.role == "role-7"
	lib.matches(`org/app-7/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 7: production needs the prod environment" if {
	input.request.role == "role-7"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100008"
	input.request.role == "role-8"
	lib.matches(`org/app-8/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 8: production needs the prod environment" if {
	input.request.role == "role-8"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100009"
	input.request.role == "role-9"
	lib.matches(`org/app-9/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 9: production needs the prod environment" if {
	input.request.role == "role-9"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100010"
	input.request.role == "role-10"
	lib.matches(`org/app-10/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 10: production needs the prod environment" if {
	input.request.role == "role-10"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100011"
	input.request.role == "role-11"
	lib.matches(`org/app-11/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 11: production needs the prod environment" if {
	input.request.role == "role-11"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100012"
	input.request.role == "role-12"
	lib.matches(`org/app-12/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 12: production needs the prod environment" if {
	input.request.role == "role-12"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100013"
	input.request.role == "role-13"
	lib.matches(`org/app-13/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 13: production needs the prod environment" if {
	input.request.role == "role-13"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100014"
	input.request.role == "role-14"
	lib.matches(`org/app-14/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 14: production needs the prod environment" if {
	input.request.role == "role-14"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100015"
	input.request.role == "role-15"
	lib.matches(`org/app-15/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 15: production needs the prod environment" if {
	input.request.role == "role-15"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100016"
	input.request.role == "role-16"
	lib.matches(`org/app-16/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 16: production needs the prod environment" if {
	input.request.role == "role-16"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100017"
	input.request.role == "role-17"
	lib.matches(`org/app-17/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 17: production needs the prod environment" if {
	input.request.role == "role-17"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100018"
	input.request.role == "role-18"
	lib.matches(`org/app-18/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 18: production needs the prod environment" if {
	input.request.role == "role-18"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100019"
	input.request.role == "role-19"
	lib.matches(`org/app-19/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 19: production needs the prod environment" if {
	input.request.role == "role-19"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100020"
	input.request.role == "role-20"
	lib.matches(`org/app-20/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 20: production needs the prod environment" if {
	input.request.role == "role-20"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100021"
	input.request.role == "role-21"
	lib.matches(`org/app-21/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 21: production needs the prod environment" if {
	input.request.role == "role-21"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100022"
	input.request.role == "role-22"
	lib.matches(`org/app-22/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 22: production needs the prod environment" if {
	input.request.role == "role-22"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100023"
	input.request.role == "role-23"
	lib.matches(`org/app-23/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 23: production needs the prod environment" if {
	input.request.role == "role-23"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100024"
	input.request.role == "role-24"
	lib.matches(`org/app-24/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 24: production needs the prod environment" if {
	input.request.role == "role-24"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100025"
	input.request.role == "role-25"
	lib.matches(`org/app-25/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 25: production needs the prod environment" if {
	input.request.role == "role-25"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100026"
	input.request.role == "role-26"
	lib.matches(`org/app-26/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 26: production needs the prod environment" if {
	input.request.role == "role-26"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100027"
	input.request.role == "role-27"
	lib.matches(`org/app-27/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 27: production needs the prod environment" if {
	input.request.role == "role-27"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100028"
	input.request.role == "role-28"
	lib.matches(`org/app-28/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 28: production needs the prod environment" if {
	input.request.role == "role-28"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100029"
	input.request.role == "role-29"
	lib.matches(`org/app-29/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 29: production needs the prod environment" if {
	input.request.role == "role-29"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100030"
	input.request.role == "role-30"
	lib.matches(`org/app-30/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 30: production needs the prod environment" if {
	input.request.role == "role-30"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100031"
	input.request.role == "role-31"
	lib.matches(`org/app-31/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 31: production needs the prod environment" if {
	input.request.role == "role-31"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100032"
	input.request.role == "role-32"
	lib.matches(`org/app-32/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 32: production needs the prod environment" if {
	input.request.role == "role-32"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100033"
	input.request.role == "role-33"
	lib.matches(`org/app-33/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 33: production needs the prod environment" if {
	input.request.role == "role-33"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100034"
	input.request.role == "role-34"
	lib.matches(`org/app-34/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 34: production needs the prod environment" if {
	input.request.role == "role-34"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100035"
	input.request.role == "role-35"
	lib.matches(`org/app-35/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 35: production needs the prod environment" if {
	input.request.role == "role-35"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100036"
	input.request.role == "role-36"
	lib.matches(`org/app-36/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 36: production needs the prod environment" if {
	input.request.role == "role-36"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100037"
	input.request.role == "role-37"
	lib.matches(`org/app-37/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 37: production needs the prod environment" if {
	input.request.role == "role-37"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100038"
	input.request.role == "role-38"
	lib.matches(`org/app-38/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 38: production needs the prod environment" if {
	input.request.role == "role-38"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100039"
	input.request.role == "role-39"
	lib.matches(`org/app-39/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 39: production needs the prod environment" if {
	input.request.role == "role-39"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100040"
	input.request.role == "role-40"
	lib.matches(`org/app-40/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 40: production needs the prod environment" if {
	input.request.role == "role-40"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100041"
	input.request.role == "role-41"
	lib.matches(`org/app-41/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 41: production needs the prod environment" if {
	input.request.role == "role-41"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100042"
	input.request.role == "role-42"
	lib.matches(`org/app-42/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 42: production needs the prod environment" if {
	input.request.role == "role-42"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100043"
	input.request.role == "role-43"
	lib.matches(`org/app-43/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 43: production needs the prod environment" if {
	input.request.role == "role-43"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100044"
	input.request.role == "role-44"
	lib.matches(`org/app-44/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 44: production needs the prod environment" if {
	input.request.role == "role-44"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100045"
	input.request.role == "role-45"
	lib.matches(`org/app-45/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 45: production needs the prod environment" if {
	input.request.role == "role-45"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100046"
	input.request.role == "role-46"
	lib.matches(`org/app-46/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 46: production needs the prod environment" if {
	input.request.role == "role-46"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100047"
	input.request.role == "role-47"
	lib.matches(`org/app-47/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 47: production needs the prod environment" if {
	input.request.role == "role-47"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100048"
	input.request.role == "role-48"
	lib.matches(`org/app-48/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 48: production needs the prod environment" if {
	input.request.role == "role-48"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100049"
	input.request.role == "role-49"
	lib.matches(`org/app-49/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 49: production needs the prod environment" if {
	input.request.role == "role-49"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100050"
	input.request.role == "role-50"
	lib.matches(`org/app-50/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 50: production needs the prod environment" if {
	input.request.role == "role-50"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100051"
	input.request.role == "role-51"
	lib.matches(`org/app-51/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 51: production needs the prod environment" if {
	input.request.role == "role-51"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100052"
	input.request.role == "role-52"
	lib.matches(`org/app-52/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 52: production needs the prod environment" if {
	input.request.role == "role-52"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100053"
	input.request.role == "role-53"
	lib.matches(`org/app-53/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 53: production needs the prod environment" if {
	input.request.role == "role-53"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100054"
	input.request.role == "role-54"
	lib.matches(`org/app-54/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 54: production needs the prod environment" if {
	input.request.role == "role-54"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100055"
	input.request.role == "role-55"
	lib.matches(`org/app-55/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 55: production needs the prod environment" if {
	input.request.role == "role-55"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100056"
	input.request.role == "role-56"
	lib.matches(`org/app-56/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 56: production needs the prod environment" if {
	input.request.role == "role-56"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100057"
	input.request.role == "role-57"
	lib.matches(`org/app-57/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 57: production needs the prod environment" if {
	input.request.role == "role-57"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100058"
	input.request.role == "role-58"
	lib.matches(`org/app-58/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 58: production needs the prod environment" if {
	input.request.role == "role-58"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100059"
	input.request.role == "role-59"
	lib.matches(`org/app-59/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 59: production needs the prod environment" if {
	input.request.role == "role-59"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100060"
	input.request.role == "role-60"
	lib.matches(`org/app-60/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 60: production needs the prod environment" if {
	input.request.role == "role-60"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100061"
	input.request.role == "role-61"
	lib.matches(`org/app-61/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 61: production needs the prod environment" if {
	input.request.role == "role-61"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100062"
	input.request.role == "role-62"
	lib.matches(`org/app-62/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 62: production needs the prod environment" if {
	input.request.role == "role-62"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100063"
	input.request.role == "role-63"
	lib.matches(`org/app-63/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 63: production needs the prod environment" if {
	input.request.role == "role-63"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100064"
	input.request.role == "role-64"
	lib.matches(`org/app-64/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 64: production needs the prod environment" if {
	input.request.role == "role-64"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100065"
	input.request.role == "role-65"
	lib.matches(`org/app-65/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 65: production needs the prod environment" if {
	input.request.role == "role-65"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100066"
	input.request.role == "role-66"
	lib.matches(`org/app-66/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 66: production needs the prod environment" if {
	input.request.role == "role-66"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100067"
	input.request.role == "role-67"
	lib.matches(`org/app-67/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 67: production needs the prod environment" if {
	input.request.role == "role-67"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100068"
	input.request.role == "role-68"
	lib.matches(`org/app-68/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 68: production needs the prod environment" if {
	input.request.role == "role-68"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100069"
	input.request.role == "role-69"
	lib.matches(`org/app-69/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 69: production needs the prod environment" if {
	input.request.role == "role-69"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100070"
	input.request.role == "role-70"
	lib.matches(`org/app-70/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 70: production needs the prod environment" if {
	input.request.role == "role-70"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100071"
	input.request.role == "role-71"
	lib.matches(`org/app-71/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 71: production needs the prod environment" if {
	input.request.role == "role-71"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100072"
	input.request.role == "role-72"
	lib.matches(`org/app-72/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 72: production needs the prod environment" if {
	input.request.role == "role-72"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100073"
	input.request.role == "role-73"
	lib.matches(`org/app-73/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 73: production needs the prod environment" if {
	input.request.role == "role-73"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100074"
	input.request.role == "role-74"
	lib.matches(`org/app-74/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 74: production needs the prod environment" if {
	input.request.role == "role-74"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100075"
	input.request.role == "role-75"
	lib.matches(`org/app-75/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 75: production needs the prod environment" if {
	input.request.role == "role-75"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100076"
	input.request.role == "role-76"
	lib.matches(`org/app-76/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 76: production needs the prod environment" if {
	input.request.role == "role-76"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100077"
	input.request.role == "role-77"
	lib.matches(`org/app-77/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 77: production needs the prod environment" if {
	input.request.role == "role-77"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100078"
	input.request.role == "role-78"
	lib.matches(`org/app-78/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 78: production needs the prod environment" if {
	input.request.role == "role-78"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100079"
	input.request.role == "role-79"
	lib.matches(`org/app-79/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 79: production needs the prod environment" if {
	input.request.role == "role-79"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100080"
	input.request.role == "role-80"
	lib.matches(`org/app-80/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 80: production needs the prod environment" if {
	input.request.role == "role-80"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100081"
	input.request.role == "role-81"
	lib.matches(`org/app-81/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 81: production needs the prod environment" if {
	input.request.role == "role-81"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100082"
	input.request.role == "role-82"
	lib.matches(`org/app-82/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 82: production needs the prod environment" if {
	input.request.role == "role-82"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100083"
	input.request.role == "role-83"
	lib.matches(`org/app-83/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 83: production needs the prod environment" if {
	input.request.role == "role-83"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100084"
	input.request.role == "role-84"
	lib.matches(`org/app-84/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 84: production needs the prod environment" if {
	input.request.role == "role-84"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100085"
	input.request.role == "role-85"
	lib.matches(`org/app-85/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 85: production needs the prod environment" if {
	input.request.role == "role-85"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100086"
	input.request.role == "role-86"
	lib.matches(`org/app-86/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 86: production needs the prod environment" if {
	input.request.role == "role-86"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100087"
	input.request.role == "role-87"
	lib.matches(`org/app-87/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 87: production needs the prod environment" if {
	input.request.role == "role-87"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100088"
	input.request.role == "role-88"
	lib.matches(`org/app-88/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 88: production needs the prod environment" if {
	input.request.role == "role-88"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100089"
	input.request.role == "role-89"
	lib.matches(`org/app-89/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 89: production needs the prod environment" if {
	input.request.role == "role-89"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100090"
	input.request.role == "role-90"
	lib.matches(`org/app-90/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 90: production needs the prod environment" if {
	input.request.role == "role-90"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100091"
	input.request.role == "role-91"
	lib.matches(`org/app-91/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 91: production needs the prod environment" if {
	input.request.role == "role-91"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100092"
	input.request.role == "role-92"
	lib.matches(`org/app-92/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 92: production needs the prod environment" if {
	input.request.role == "role-92"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100093"
	input.request.role == "role-93"
	lib.matches(`org/app-93/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 93: production needs the prod environment" if {
	input.request.role == "role-93"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100094"
	input.request.role == "role-94"
	lib.matches(`org/app-94/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 94: production needs the prod environment" if {
	input.request.role == "role-94"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100095"
	input.request.role == "role-95"
	lib.matches(`org/app-95/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 95: production needs the prod environment" if {
	input.request.role == "role-95"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100096"
	input.request.role == "role-96"
	lib.matches(`org/app-96/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 96: production needs the prod environment" if {
	input.request.role == "role-96"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100097"
	input.request.role == "role-97"
	lib.matches(`org/app-97/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 97: production needs the prod environment" if {
	input.request.role == "role-97"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100098"
	input.request.role == "role-98"
	lib.matches(`org/app-98/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 98: production needs the prod environment" if {
	input.request.role == "role-98"
	input.token.environment != "prod"
}

allow if {
	input.token.repository_id == "100099"
	input.request.role == "role-99"
	lib.matches(`org/app-99/\.github/workflows/deploy\.yml@refs/heads/main`, input.token.job_workflow_ref)
}

deny contains "rule 99: production needs the prod environment" if {
	input.request.role == "role-99"
	input.token.environment != "prod"
}

grant := {"max_ttl_seconds": 900, "principals": ["deploy"]}
