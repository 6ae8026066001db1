"""The login and sign-up forms of local accounts, made safe to open to many people at once.

NativeAuthenticator's forms hash passwords (bcrypt, about a third of a second each here) on the
hub's event loop, so a class logging in at once stalled every other request of the hub; they
answer an unknown account at once and a known one after two hashes, telling which accounts
exist; they take any number of guesses and sign-ups; and a user name of a megabyte or a password
over bcrypt's 72 bytes got stored or a 500. Here:

* every bcrypt runs in a small thread pool (:func:`check_password`, :func:`hash_password`),
  once per login, against a stand-in hash for an unknown account: the same work and time
  whether the account exists, waits for approval or not;
* failed logins are counted per account and address, per address, and per account
  (:class:`LoginThrottle`): past their allowance the first two answer 429 with Retry-After for
  a delay that doubles and is bounded, the third only slows the account's logins down (a few
  seconds at most), so nobody can lock another person out for good;
* sign-ups are limited per address and per hour (429 with Retry-After);
* user names and passwords longer than the settings allow are refused with a 400 naming the
  limit.

The address is the one our own proxy saw (:mod:`statcommons.platform.clientaddress`).
"""

from __future__ import annotations

import asyncio
import math
import os
from concurrent.futures import ThreadPoolExecutor

import bcrypt
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.handlers import SignUpHandler as NativeSignUpHandler
from nativeauthenticator.orm import UserInfo
from tornado import web

from .throttle import Backoff, Rate

#: bcrypt hashes in threads (it releases the GIL), one per core: logins use the cores, the loop stays free.
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="bcrypt")
#: Seconds an account's logins are slowed down at most, however many failures it had from anywhere.
ACCOUNT_DELAY_MAX = 5.0


async def check_password(password: str, hashed: bytes) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_POOL, bcrypt.checkpw, password.encode(), hashed)


async def hash_password(password: str) -> bytes:
    return await asyncio.get_running_loop().run_in_executor(
        _POOL, lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt())
    )


def text_problem(value: str, what: str, max_length: int, unit: str = "characters") -> str | None:
    """Why a user name or password cannot be taken, or None."""
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        return f"the {what} is not valid text"
    length = len(encoded) if unit == "bytes" else len(value)
    if length > max_length:
        return f"the {what} is {length} {unit} long: at most {max_length} are allowed"
    return None


class LoginThrottle:
    """Failed logins by account and address, by address, and by account (see the module)."""

    def __init__(self, per_account: int, per_address: int, max_delay: float):
        self.pairs = Backoff(per_account, max_delay)
        self.addresses = Backoff(per_address, max_delay)
        self.accounts = Backoff(per_account * 4, ACCOUNT_DELAY_MAX)

    def retry_after(self, account: str, address: str) -> float:
        return max(self.pairs.retry_after((account, address)), self.addresses.retry_after(address))

    def slowdown(self, account: str) -> float:
        return self.accounts.retry_after(account)

    def failed(self, account: str, address: str) -> None:
        self.pairs.failed((account, address))
        self.addresses.failed(address)
        self.accounts.failed(account)

    def succeeded(self, account: str, address: str) -> None:
        self.pairs.succeeded((account, address))


def _too_many(handler, seconds: float) -> int:
    wait = max(1, math.ceil(seconds))
    handler.set_status(429)
    handler.set_header("Retry-After", str(wait))
    return wait


class LoginHandler(NativeLoginHandler):
    """``/hub/login``: NativeAuthenticator's form with the checks of this module."""

    async def post(self):
        authenticator = self.authenticator
        data = {k: self.get_argument(k, strip=False) for k in self.request.body_arguments if k != "_xsrf"}
        username = authenticator.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        problem = text_problem(username, "user name", authenticator.max_username_length) or text_problem(
            password, "password", authenticator.max_password_length, "bytes"
        )
        if problem:
            self.set_status(400)
            return self.finish(await self._render(login_error=f"Cannot log in: {problem}.", username=""))
        data["username"] = username
        address = self.request.remote_ip
        throttle = authenticator.throttle
        wait = throttle.retry_after(username, address)
        if wait > 0:
            seconds = _too_many(self, wait)
            message = f"Too many failed logins from your address: try again in {seconds} seconds."
            return self.finish(await self._render(login_error=message, username=username))
        slowdown = throttle.slowdown(username)
        if slowdown > 0:
            await asyncio.sleep(slowdown)

        self.statcommons_refusal = None
        user = await self.login_user(data)
        if user:
            throttle.succeeded(username, address)
            self._jupyterhub_user = user
            return self.redirect(self.get_next_url(user))
        if self.statcommons_refusal == "pending":
            error = f"User {username} has not been authorized by an administrator yet."
        else:
            throttle.failed(username, address)
            error = "Invalid username or password."
        self.set_status(403)
        self.finish(await self._render(login_error=error, username=username))


class SignUpHandler(NativeSignUpHandler):
    """``/hub/signup``: NativeAuthenticator's form with limits, a rate, and hashing off the event loop."""

    async def post(self):
        authenticator = self.authenticator
        if not authenticator.enable_signup:
            raise web.HTTPError(404)
        username = self.get_body_argument("username", "", strip=False)
        password = self.get_body_argument("signup_password", "", strip=False)
        confirmation = self.get_body_argument("signup_password_confirmation", "", strip=False)
        problem = text_problem(username, "user name", authenticator.max_username_length) or text_problem(
            password, "password", authenticator.max_password_length, "bytes"
        )
        if problem:
            self.set_status(400)
            return await self._answer(f"Cannot sign up: {problem}.", "alert-danger")
        address = self.request.remote_ip
        wait = max(authenticator.signups.retry_after(address), authenticator.all_signups.retry_after(None))
        if wait > 0:
            seconds = _too_many(self, wait)
            return await self._answer(f"Too many sign-ups: try again in {seconds} seconds.", "alert-danger")

        user_info = {
            "username": username,
            "password": password,
            "email": self.get_body_argument("email", "", strip=False),
            "has_2fa": bool(self.get_body_argument("2fa", "", strip=False)),
        }
        taken = authenticator.user_exists(username)
        matches = password == confirmation
        user = None
        if not taken and matches:
            user = await authenticator.create_user_async(**user_info)
        if user is not None:
            authenticator.signups.happened(address)
            authenticator.all_signups.happened(None)
        alert, message = self.get_result_message(user, True, taken, matches, username in authenticator.admin_users)
        await self._answer(message, alert, user)

    async def _answer(self, message: str, alert: str, user: UserInfo | None = None) -> None:
        html = await self.render_template(
            "signup.html",
            ask_email=self.authenticator.ask_email_on_signup,
            result_message=message,
            alert=alert,
            two_factor_auth=self.authenticator.allow_2fa,
            two_factor_auth_user=user.has_2fa if user else "",
            two_factor_auth_value=user.otp_secret if user else "",
            recaptcha_key=self.authenticator.recaptcha_key,
            tos=self.authenticator.tos,
        )
        self.finish(html)


HANDLERS = {r"/login": LoginHandler, r"/signup": SignUpHandler}


def limits(authenticator) -> tuple[Rate, Rate, LoginThrottle]:
    """The sign-up rates (per address, overall) and the login throttle of an authenticator's settings."""
    return (
        Rate(authenticator.signups_per_address_per_hour, 3600),
        Rate(authenticator.signups_per_hour, 3600),
        LoginThrottle(
            authenticator.failed_logins_per_account,
            authenticator.failed_logins_per_address,
            authenticator.failed_login_delay_max,
        ),
    )
