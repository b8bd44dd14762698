"""How an OmieClient reads Omie's answers: faults that arrive with any HTTP
status, bodies that are not JSON, redirects, and the business errors of
writes answered in a 200 body."""
import json

from requests.structures import CaseInsensitiveDict

from . import errors


class OmieAnswers:
    "The answers part of OmieClient"

    def _parse(self, response, call):
        "Return the response dict or raise the typed error it stands for"
        status = response.status_code
        headers = response.headers
        content = response.content or b''
        data, problem = None, None
        head = content.lstrip()[:1]
        if not head:
            problem = 'an empty body'
        elif head == b'<':
            # Judged by the body, not the Content-Type: JSON has been seen
            # served as text/html.
            problem = 'an HTML page instead of JSON'
        else:
            try:
                data = json.loads(content)
            except ValueError:
                problem = 'a body that is not valid JSON'
        if problem and b'Broken response' in content:
            problem = "'Broken response from Application Server'"

        fault = data if isinstance(data, dict) and (
            data.get('faultstring') or data.get('faultcode')) else None
        if fault is None and status >= 300 and headers.get('OmieAPI-Error'):
            fault = {}  # the header alone tells what went wrong
        if fault is not None:
            raise errors.classify_fault(fault.get('faultcode'),
                self._scrub(fault.get('faultstring') or ''),
                status=status, call=call, now=self._now(),
                headers=CaseInsensitiveDict({key: self._scrub(value)
                        for key, value in headers.items()}))
        if 300 <= status < 400:
            location = headers.get('Location', '')
            raise errors.OmieError(
                f'{call}: Omie answered with a redirect (HTTP {status}) to '
                f'{location!r}; check the base URL.', status=status,
                call=call)
        if status >= 400:
            raise errors.classify_status(status, headers=headers, call=call,
                detail=f'(HTTP {status}, {problem})' if problem else None)
        if problem:
            raise errors.ServerError(errors.ServerError.describe(call)
                + f' (HTTP {status}, {problem})', status=status, call=call)
        if not isinstance(data, dict):
            raise errors.ServerError(errors.ServerError.describe(call)
                + ' (the JSON is not an object)', status=status, call=call)
        self._check_status(data, status, call)
        return data

    def _check_status(self, data, status, call):
        """Raise for a write answered with codigo_status > 0.

        *_status responses report business errors in a 200 body instead of
        a fault; "0" means success.
        """
        for code_key, text_key in (('codigo_status', 'descricao_status'),
                ('cCodStatus', 'cDesStatus')):
            code = str(data.get(code_key, '') or '').strip()
            if code in ('', '0'):
                continue
            text = self._scrub(data.get(text_key) or '')
            folded = errors._fold(text)
            if 'ja cadastrad' in folded:
                cls = errors.DuplicateError
            elif 'nao cadastrad' in folded or 'nao encontrad' in folded:
                cls = errors.NotFoundError
            else:
                cls = errors.ValidationError
            raise cls(faultcode=f'{code_key}:{code}', faultstring=text or None,
                status=status, call=call)
