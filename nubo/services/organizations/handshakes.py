"""Handshakes: invitations of existing accounts into an organization (INVITE), and the
consent of invited members to enable all features (ENABLE_ALL_FEATURES, then APPROVE_ALL_FEATURES
for the management account to finalize).

An invitation is sent by the management account (OPEN, as AWS shows a new one), accepted or
declined by the invited account, canceled by the sender, expired after 15 days (read against
nubo's clock, so tests can let them lapse). EnableAllFeatures opens a parent handshake and one
child per invited member (created accounts consent implicitly); once every child is accepted,
the management account gets an APPROVE_ALL_FEATURES handshake, whose acceptance (or that of the
parent) switches the organization to all features.
"""

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
INVITE, ENABLE, APPROVE = "INVITE", "ENABLE_ALL_FEATURES", "APPROVE_ALL_FEATURES"


def _not_found() -> ServiceError:
    return ServiceError("HandshakeNotFoundException",
                        "We can't find a handshake with the HandshakeId that you specified.")


def _already_member() -> ServiceError:
    return handshake_constraint("ALREADY_IN_AN_ORGANIZATION",
                                "The account is already a member of an organization.")


def _invalid_transition() -> ServiceError:
    return ServiceError("InvalidHandshakeTransitionException",
                        "You can't perform the operation on the handshake in its current state.")


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
        if handshake.get("parent"):
            resources.append({"Type": "PARENT_HANDSHAKE", "Value": handshake["parent"]})
        action = handshake.get("action", INVITE)
        return {"Id": handshake["handshake_id"],
                "Arn": arn(org, f"handshake/{org_id}/{action.lower()}/"
                                f"{handshake['handshake_id']}"),
                "Parties": [{"Id": org_id, "Type": "ORGANIZATION"},
                            {"Id": handshake["target"], "Type": handshake["target_type"]}],
                "State": self._state(handshake), "Action": action,
                "RequestedTimestamp": handshake["requested"],
                "ExpirationTimestamp": handshake["expires"], "Resources": resources}

    def _open(self, org: dict, action: str, target: str, target_type: str,
              parent: str | None = None, notes: str | None = None,
              tags: list[dict] | None = None) -> dict:
        now = self.clock.now()
        handshake = {"handshake_id": f"h-{random_id(32)}", "org_id": org["org_id"],
                     "action": action, "target": target, "target_type": target_type,
                     "parent": parent, "notes": notes, "tags": tags or [], "state": "OPEN",
                     "requested": now, "expires": now + EXPIRY}
        self.handshakes.put(handshake)
        return handshake

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
        if self._pending_all_features(org) is not None:
            raise handshake_constraint("INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES",
                                       "You can't issue new invitations to join an organization "
                                       "while it's in the process of enabling all features.")
        for existing in self.handshakes.find("by_target", (target_id,)):
            if existing["org_id"] == org["org_id"] and existing.get("action", INVITE) == INVITE \
                    and self._state(existing) in OPEN_STATES:
                raise ServiceError("DuplicateHandshakeException",
                                   "A handshake with the same action and target already "
                                   "exists.")
        return self._open(org, INVITE, target_id, target_type, notes=notes,
                          tags=merged_tags([], tags))

    # -- enabling all features -------------------------------------------------------------

    def _pending_all_features(self, org: dict) -> dict | None:
        parent_id = org.get("all_features_handshake")
        parent = self.handshakes.get((parent_id,)) if parent_id else None
        return parent if parent is not None and self._state(parent) in OPEN_STATES else None

    def enable_all_features(self, org: dict) -> dict:
        if org["feature_set"] == "ALL":
            raise handshake_constraint("ORGANIZATION_ALREADY_HAS_ALL_FEATURES",
                                       "The handshake request is invalid because the "
                                       "organization has already enabled all features.")
        if self._pending_all_features(org) is not None:
            raise handshake_constraint("ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION",
                                       "The handshake request is invalid because the "
                                       "organization is already in the process of enabling all "
                                       "features.")
        master = org["master_account_id"]
        parent = self._open(org, ENABLE, master, "ACCOUNT")
        org["all_features_handshake"] = parent["handshake_id"]
        self.organizations.save(org)
        for account in self.organizations.accounts.find("by_org", (org["org_id"],)):
            if account["account_id"] != master and account["joined_method"] == "INVITED":
                self._open(org, ENABLE, account["account_id"], "ACCOUNT",
                           parent=parent["handshake_id"])
        self._approve_when_all_consented(org, parent)
        return parent

    def _children(self, parent: dict) -> list[dict]:
        return self.handshakes.find("by_parent", (parent["handshake_id"],))

    def _approve_when_all_consented(self, org: dict, parent: dict) -> None:
        children = self._children(parent)
        if all(child["state"] == "ACCEPTED" for child in children if child["action"] == ENABLE):
            if not any(child["action"] == APPROVE for child in children):
                self._open(org, APPROVE, org["master_account_id"], "ACCOUNT",
                           parent=parent["handshake_id"])

    def _finalize_all_features(self, org: dict, parent: dict) -> None:
        children = self._children(parent)
        if any(child["action"] == ENABLE and child["state"] != "ACCEPTED"
               for child in children):
            raise _invalid_transition()
        for handshake in [parent] + [c for c in children if c["action"] == APPROVE]:
            handshake["state"] = "ACCEPTED"
            self.handshakes.put(handshake)
        org["feature_set"] = "ALL"
        self.organizations.save(org)

    def action_of(self, handshake_id: str) -> str | None:
        handshake = self.handshakes.get((handshake_id,))
        return None if handshake is None else handshake.get("action", INVITE)

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
            raise _invalid_transition()
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
        org = self.organizations.orgs.get((handshake["org_id"],))
        action = handshake.get("action", INVITE)
        if action == INVITE:
            if self._state(handshake) in OPEN_STATES and \
                    self.organizations.accounts.get((account_id,)) is not None:
                raise _already_member()
            self._transition(handshake, "ACCEPTED")
            email = handshake["target"] if handshake["target_type"] == "EMAIL" else \
                f"{account_id}@example.com"
            self.organizations.join(org, account_id, email, account_id, "INVITED",
                                    handshake["tags"])
            return handshake
        if handshake.get("parent") is None:
            parent = handshake
        else:
            parent = self.handshakes.get((handshake["parent"],))
            if action == ENABLE:  # a member's consent
                self._transition(handshake, "ACCEPTED")
                self._approve_when_all_consented(org, parent)
                return handshake
        if self._state(handshake) == "ACCEPTED":
            raise ServiceError("HandshakeAlreadyInStateException",
                               "The specified handshake is already in the requested state.")
        if self._state(parent) not in OPEN_STATES:
            raise _invalid_transition()
        self._finalize_all_features(org, parent)
        return self.handshakes.get((handshake["handshake_id"],))

    def decline(self, account_id: str, handshake_id: str) -> dict:
        return self._transition(self._received(account_id, handshake_id), "DECLINED")

    def cancel(self, org: dict, handshake_id: str) -> dict:
        handshake = self.get(org["master_account_id"], handshake_id)
        if handshake["org_id"] != org["org_id"]:
            raise _not_found()
        self._transition(handshake, "CANCELED")
        if handshake.get("action") == ENABLE and handshake.get("parent") is None:
            for child in self._children(handshake):
                if self._state(child) in OPEN_STATES:
                    self._transition(child, "CANCELED")
        return handshake

    def _matching(self, rows: list[dict], handshake_filter: dict) -> list[dict]:
        action = handshake_filter.get("ActionType")
        parent = handshake_filter.get("ParentHandshakeId")
        return [self.shape(row) for row in rows
                if action in (None, row.get("action", INVITE))
                and parent in (None, row.get("parent"))]

    def for_account(self, account_id: str, handshake_filter: dict, token: str | None,
                    max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.handshakes, "by_target", (account_id,), "handshake_id", token,
                           max_results)
        return self._matching(rows, handshake_filter), token

    def for_organization(self, org: dict, handshake_filter: dict, token: str | None,
                         max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.handshakes, "by_org", (org["org_id"],), "handshake_id", token,
                           max_results)
        return self._matching(rows, handshake_filter), token

    def forget(self, org: dict) -> None:
        self.handshakes.delete_where("by_org", (org["org_id"],))
