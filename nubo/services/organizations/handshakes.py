"""Invitations of existing accounts into an organization (handshakes of action INVITE): sent by
the management account (OPEN, as AWS shows a new invitation), accepted or declined by the invited
account, canceled by the sender, expired after 15 days (read against nubo's clock, so tests can
let them lapse)."""

from __future__ import annotations

from nubo.core.errors import ServiceError
from nubo.services.organizations import schema
from nubo.services.organizations.models import Organizations, arn, page, random_id
from nubo.services.organizations.validation import (access_denied, check_id,
                                                    handshake_constraint, invalid_input,
                                                    merged_tags)
from nubo.store import Store

EXPIRY = 15 * 86400.0
OPEN_STATES = ("REQUESTED", "OPEN")


def _not_found() -> ServiceError:
    return ServiceError("HandshakeNotFoundException",
                        "We can't find a handshake with the HandshakeId that you specified.")


def _already_member() -> ServiceError:
    return handshake_constraint("ALREADY_IN_AN_ORGANIZATION",
                                "The account is already a member of an organization.")


class Handshakes:
    def __init__(self, store: Store, organizations: Organizations) -> None:
        self.organizations = organizations
        self.clock = organizations.clock
        self.handshakes = store.table(schema.HANDSHAKES)

    def _state(self, handshake: dict) -> str:
        if handshake["state"] in OPEN_STATES and self.clock.now() >= handshake["expires"]:
            return "EXPIRED"
        return handshake["state"]

    def shape(self, handshake: dict) -> dict:
        org = self.organizations.orgs.get((handshake["org_id"],))
        org_id = org["org_id"]
        resources = [
            {"Type": "ORGANIZATION", "Value": org_id, "Resources": [
                {"Type": "MASTER_EMAIL", "Value": org["master_email"]},
                {"Type": "MASTER_NAME", "Value": org["master_account_id"]},
                {"Type": "ORGANIZATION_FEATURE_SET",
                 "Value": "FULL" if org["feature_set"] == "ALL" else "CONSOLIDATED_BILLING"}]},
            {"Type": handshake["target_type"], "Value": handshake["target"]}]
        if handshake.get("notes"):
            resources.append({"Type": "NOTES", "Value": handshake["notes"]})
        return {"Id": handshake["handshake_id"],
                "Arn": arn(org, f"handshake/{org_id}/invite/{handshake['handshake_id']}"),
                "Parties": [{"Id": org_id, "Type": "ORGANIZATION"},
                            {"Id": handshake["target"], "Type": handshake["target_type"]}],
                "State": self._state(handshake), "Action": "INVITE",
                "RequestedTimestamp": handshake["requested"],
                "ExpirationTimestamp": handshake["expires"], "Resources": resources}

    def invite(self, org: dict, target: dict, notes: str | None,
               tags: list[dict] | None) -> dict:
        target_type, target_id = target["Type"], target["Id"]
        if target_type == "ACCOUNT":
            check_id(target_id, "account")
            if self.organizations.accounts.get((target_id,)) is not None:
                raise _already_member()
        elif target_type == "EMAIL":
            target_id = target_id.lower()
        else:
            raise invalid_input("INVALID_PARTY_TYPE_TARGET",
                                "You specified the wrong type for the handshake's target.")
        for existing in self.handshakes.find("by_target", (target_id,)):
            if existing["org_id"] == org["org_id"] and self._state(existing) in OPEN_STATES:
                raise ServiceError("DuplicateHandshakeException",
                                   "A handshake with the same action and target already "
                                   "exists.")
        now = self.clock.now()
        handshake = {"handshake_id": f"h-{random_id(32)}", "org_id": org["org_id"],
                     "target": target_id, "target_type": target_type, "notes": notes,
                     "tags": merged_tags([], tags), "state": "OPEN", "requested": now,
                     "expires": now + EXPIRY}
        self.handshakes.put(handshake)
        return handshake

    def get(self, account_id: str, handshake_id: str) -> dict:
        """The handshake, if ``account_id`` sent it (management account) or may answer it."""
        check_id(handshake_id, "handshake")
        handshake = self.handshakes.get((handshake_id,))
        if handshake is None:
            raise _not_found()
        org = self.organizations.orgs.get((handshake["org_id"],))
        if account_id != org["master_account_id"] and not self._recipient(handshake, account_id):
            raise _not_found()
        return handshake

    @staticmethod
    def _recipient(handshake: dict, account_id: str) -> bool:
        # An e-mail invitation is answered by whichever account follows its link (nubo does not
        # know accounts' e-mail addresses); an account invitation only by that account.
        return handshake["target_type"] == "EMAIL" or handshake["target"] == account_id

    def _transition(self, handshake: dict, state: str) -> dict:
        current = self._state(handshake)
        if current == state:
            raise ServiceError("HandshakeAlreadyInStateException",
                               "The specified handshake is already in the requested state.")
        if current not in OPEN_STATES:
            raise ServiceError("InvalidHandshakeTransitionException",
                               "You can't perform the operation on the handshake in its current "
                               "state.")
        handshake["state"] = state
        self.handshakes.put(handshake)
        return handshake

    def _received(self, account_id: str, handshake_id: str) -> dict:
        """The handshake, which ``account_id`` must be the one to answer."""
        handshake = self.get(account_id, handshake_id)
        if not self._recipient(handshake, account_id):
            raise access_denied()
        return handshake

    def accept(self, account_id: str, handshake_id: str) -> dict:
        handshake = self._received(account_id, handshake_id)
        if self._state(handshake) in OPEN_STATES and \
                self.organizations.accounts.get((account_id,)) is not None:
            raise _already_member()
        self._transition(handshake, "ACCEPTED")
        org = self.organizations.orgs.get((handshake["org_id"],))
        email = handshake["target"] if handshake["target_type"] == "EMAIL" else \
            f"{account_id}@example.com"
        self.organizations.join(org, account_id, email, account_id, "INVITED",
                                handshake["tags"])
        return handshake

    def decline(self, account_id: str, handshake_id: str) -> dict:
        return self._transition(self._received(account_id, handshake_id), "DECLINED")

    def cancel(self, org: dict, handshake_id: str) -> dict:
        handshake = self.get(org["master_account_id"], handshake_id)
        if handshake["org_id"] != org["org_id"]:
            raise _not_found()
        return self._transition(handshake, "CANCELED")

    def for_account(self, account_id: str, action: str | None, token: str | None,
                    max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.handshakes, "by_target", (account_id,), "handshake_id", token,
                           max_results)
        return [self.shape(row) for row in rows if action in (None, "INVITE")], token

    def for_organization(self, org: dict, action: str | None, token: str | None,
                         max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.handshakes, "by_org", (org["org_id"],), "handshake_id", token,
                           max_results)
        return [self.shape(row) for row in rows if action in (None, "INVITE")], token

    def forget(self, org: dict) -> None:
        self.handshakes.delete_where("by_org", (org["org_id"],))
