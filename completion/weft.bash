# bash completion for weft: subcommands, their options, task and theme
# names, format and mode words, and files.  Installed by `make install` as
# PREFIX/share/bash-completion/completions/weft; from a checkout:
#   source completion/weft.bash

# The names in the folders weft searches for KIND (prompts or themes), in
# weft's order: $WEFT_PROMPTS/$WEFT_THEMES, ./KIND, beside the weft that
# would run (a checkout, or PREFIX/bin -> PREFIX/share/weft), the usual
# installed places.  Tasks are folders, themes files.
_weft_names()
{
	local kind=$1 var=$2 dirs=() d f exe bin
	[[ -n ${!var} ]] && dirs+=("${!var}")
	dirs+=("$kind")
	exe=$(type -P weft 2>/dev/null)
	if [[ -n $exe ]]; then
		exe=$(readlink -f -- "$exe" 2>/dev/null || printf '%s' "$exe")
		bin=${exe%/*}
		dirs+=("$bin/$kind" "${bin%/*}/share/weft/$kind")
	fi
	dirs+=("@DATADIR@/$kind" /usr/local/share/weft/"$kind" /usr/share/weft/"$kind")
	for d in "${dirs[@]}"; do
		[[ -d $d ]] || continue
		for f in "$d"/*; do
			if [[ $kind == prompts ]]; then
				[[ -d $f ]] || continue
			else
				[[ -f $f ]] || continue
			fi
			printf '%s\n' "${f##*/}"
		done
	done | sort -u
}

_weft()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="check ping extract export new generate plot replay score tui eval verify map"
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*)
			if [[ " $commands " == *" ${words[i]} "* ]]; then
				cmd=${words[i]}
			fi
			break
			;;
		esac
	done

	# the value of the option before the cursor
	case $prev in
	-t | --task)
		COMPREPLY=($(compgen -W "$(_weft_names prompts WEFT_PROMPTS)" -- "$cur"))
		return
		;;
	--theme)
		COMPREPLY=($(compgen -W "$(_weft_names themes WEFT_THEMES)" -- "$cur"))
		return
		;;
	--format)
		if [[ $cmd == export ]]; then
			COMPREPLY=($(compgen -W "classification logodds mwe openai-evals jsonl csv bonsai" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "text csv jsonl" -- "$cur"))
		fi
		return
		;;
	--rank)
		COMPREPLY=($(compgen -W "logprobs scores choice" -- "$cur"))
		return
		;;
	--method)
		if [[ $cmd == map ]]; then
			COMPREPLY=($(compgen -W "pca tsne" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "generate logprob" -- "$cur"))
		fi
		return
		;;
	--scoring)
		COMPREPLY=($(compgen -W "opro strict" -- "$cur"))
		return
		;;
	--type)
		COMPREPLY=($(compgen -W "boolean choice number text adaptive" -- "$cur"))
		return
		;;
	--compat)
		COMPREPLY=($(compgen -W "seed" -- "$cur"))
		return
		;;
	ping)
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "generator judge verifier" -- "$cur"))
			return
		fi
		;;
	-o | --output | -c | --config | --sizes | --svg | --summary | --save-as | \
	--judge-prompt | --prompt)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--out | --resume)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-r | --rounds | -n | --n | -w | --width | --height | --limit | --concurrency | --sessions | \
	--synthetic | -s | --set | --size | --judge | --models | --pattern | --preamble | \
	--labels | --other-prefix | --system | --target | --near-duplicate | --min-verify | \
	-m | --min-confidence | --reject-below | --clusters | --near)
		return # a value weft cannot guess
		;;
	esac

	local opts
	case $cmd in
	"") opts="--read-only --theme --help --version" ;;
	check) opts="--help" ;;
	ping) opts="--config --set --help" ;;
	extract) opts="--format --compat --pattern --preamble --labels --near-duplicate --help" ;;
	export) opts="--format -o --force --compat --pattern --preamble --labels --other-prefix --system --near-duplicate --min-verify --include-rejected --help" ;;
	new) opts="--task -o --output --force --help" ;;
	generate) opts="--rounds --n --rank --task --set --config --quiet --sessions --output --help" ;;
	plot) opts="--sizes --size --svg --no-svg --summary --force --width --height --help" ;;
	replay) opts="--width --json --judge --rejudge --judge-prompt --rank --task --set --config --save-as --force --help" ;;
	score) opts="--type --scoring --target --prompt --gpt --help" ;;
	tui) opts="--theme --read-only --task --synthetic --hostile --keys --help" ;;
	verify) opts="--limit --min-confidence --reject-below --task --set --config --batch --help" ;;
	map) opts="--out --method --clusters --near --force --set --config --help" ;;
	eval) opts="--models --method --scoring --limit --out --sizes --size --set --config --concurrency --batch --resume --retry-live --help" ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ -z $cmd ]]; then
		# a command, or a session file to open in the loom
		COMPREPLY=($(compgen -W "$commands" -- "$cur") $(compgen -f -- "$cur"))
	elif [[ $cmd == plot ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	elif [[ $cmd != score ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
} &&
	complete -o filenames -o bashdefault -F _weft weft
